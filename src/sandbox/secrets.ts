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

/** `text` with each of `secrets` replaced by `mask`, the longest first (a secret may contain another). */
export function maskIn(text: string, secrets: readonly string[], mask: string): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret) out = out.split(secret).join(mask);
  return out;
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
