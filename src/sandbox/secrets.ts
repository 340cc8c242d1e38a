/**
 * Which of a connection's variables are secrets, and every form their values can take in what a
 * script or a driver prints. One rule for the sandbox (driver errors), the execution log and the
 * admin API (masking on read, the Test answer).
 */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY/i;
export const URI_NAME = /(URI|URL)$/i;
export const SECRET_PARAM = /pass|secret|token|key|sig/i;

/** A variable whose whole value is a secret: DB_PASSWORD, DB_PASS and anything named like a secret, token or key. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Every secret value of a connection's variables, to be searched for in what scripts print or
 * return: secret-named variables whole, and the password and secret-looking parameters inside
 * …URI and …URL values, as written and decoded (a driver prints the decoded password).
 */
export function secretValues(env: Readonly<Record<string, string>>): string[] {
  const found = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string') continue;
    if (isSecretName(name)) found.add(value);
    else if (URI_NAME.test(name))
      for (const secret of uriSecrets(value)) for (const form of [secret, decodeUriPart(secret), encodeURIComponent(decodeUriPart(secret))]) found.add(form);
  }
  found.delete('');
  return [...found];
}

/** What a secret looks like wherever Ferry shows or logs text that may contain one. */
export const MASK = '********';

/**
 * Secrets shorter than this are left alone: masking every "ab" would make console lines and driver
 * errors unreadable, and a secret that short is not protected by hiding it.
 */
export const MIN_SECRET_LENGTH = 3;

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/gi;

/**
 * The one masking rule, for driver errors crossing into the isolate, the execution log and the
 * admin API's answers: the password of any URL in `text` (a driver prints its connection string,
 * configured or not), then each of `secrets` of at least MIN_SECRET_LENGTH characters, the
 * longest first (a secret may contain another), each replaced by MASK.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(URL_CREDENTIALS, `$1${MASK}@`);
  const hidden = [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of hidden) out = out.split(secret).join(MASK);
  return out;
}

/** Whether `text` holds one of `secrets` that maskSecrets would hide (for values that are not text: numbers, bytes). */
export function holdsSecret(text: string | Buffer, secrets: readonly string[]): boolean {
  return secrets.some((secret) => secret.length >= MIN_SECRET_LENGTH && text.includes(secret));
}

function uriSecrets(value: string): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [/\/\/[^:/@\s]*:([^@\s]*)@/.exec(value)?.[1] ?? ''];
  }
  return [url.password, ...[...url.searchParams].filter(([key]) => SECRET_PARAM.test(key)).map(([, secret]) => secret)];
}

/** A URI's user info or parameter as a driver sees it; unchanged when it is not valid percent-encoding. */
export function decodeUriPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
