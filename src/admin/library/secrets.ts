import { BadRequest } from '../../errors.ts';

/** What a secret looks like on its way out. Sending it back unchanged keeps the stored value. */
export const MASK = '********';

/** The URI form's variable and the programmatic form's five: a connection uses one form or the other. */
export const URI_FORM = ['DB_CONNECTION_URI'] as const;
export const PROGRAMMATIC_FORM = ['DB_HOST', 'DB_PORT', 'DB_USERNAME', 'DB_PASSWORD', 'DB_DATABASE'] as const;

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY/i;
const URI_NAME = /_(URI|URL)$/i;
const SECRET_PARAM = /pass|secret|token|key|sig/i;

/** A variable whose whole value is a secret: DB_PASSWORD and anything named like a password, secret, token or key. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** How a value is shown: secrets as the mask, URIs with their password (and secret-looking parameters) masked. */
export function maskValue(name: string, value: string): string {
  if (isSecretName(name)) return value === '' ? '' : MASK;
  if (URI_NAME.test(name)) return maskUri(value);
  return value;
}

export function maskEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, maskValue(name, value)]));
}

function maskUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not a URL we can take apart: mask anything after a colon in what looks like user info.
    return value.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, `$1${MASK}@`);
  }
  if (url.password) url.password = MASK;
  for (const key of [...url.searchParams.keys()]) if (SECRET_PARAM.test(key)) url.searchParams.set(key, MASK);
  // URL encodes the mask's asterisks in neither place, so the string compares equal on the way back.
  return url.href.replace(/%2A/gi, '*');
}

/** A value as sent back by a client: the masked form of the stored value means "keep the stored value". */
function unmask(name: string, sent: string, stored: string | undefined): string {
  if (stored !== undefined && sent === maskValue(name, stored)) return stored;
  if (sent === MASK) throw new BadRequest(`${name} was sent masked, but no value is stored for it: send the real value.`, 'masked_value', { variable: name });
  if (URI_NAME.test(name) && stored !== undefined) return restoreUriSecrets(sent, stored);
  return sent;
}

/** A changed URI whose password is still the mask gets the stored URI's password back. */
function restoreUriSecrets(sent: string, stored: string): string {
  let next: URL;
  let old: URL;
  try {
    next = new URL(sent);
    old = new URL(stored);
  } catch {
    return sent;
  }
  if (decodeURIComponent(next.password) === MASK) next.password = old.password;
  for (const [key, value] of next.searchParams) {
    if (value === MASK && old.searchParams.has(key)) next.searchParams.set(key, old.searchParams.get(key)!);
  }
  return next.href;
}

/**
 * Applies a JSON-merge-patch style change to the variables: a string sets (a masked value keeps the
 * stored secret), null removes. Setting the URI form's variable removes the programmatic form's
 * variables and the other way round, unless the change sets both.
 */
export function mergeEnv(stored: Readonly<Record<string, string>>, patch: Readonly<Record<string, string | null>>): Record<string, string> {
  const sets = (names: readonly string[]) => names.some((name) => typeof patch[name] === 'string');
  const next: Record<string, string> = { ...stored };
  if (sets(URI_FORM) && !sets(PROGRAMMATIC_FORM)) for (const name of PROGRAMMATIC_FORM) delete next[name];
  if (sets(PROGRAMMATIC_FORM) && !sets(URI_FORM)) for (const name of URI_FORM) delete next[name];
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete next[name];
    else next[name] = unmask(name, value, stored[name]);
  }
  return next;
}

/** Replaces the variables with `sent` (a full set, as a form submits it), keeping stored secrets sent back masked. */
export function replaceEnv(stored: Readonly<Record<string, string>>, sent: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(sent).map(([name, value]) => [name, unmask(name, value, stored[name])]));
}

/** Which form the variables use, for the console's choice between the two. */
export function envForm(env: Readonly<Record<string, string>>): 'uri' | 'programmatic' | 'none' {
  if (URI_FORM.some((name) => name in env)) return 'uri';
  if (PROGRAMMATIC_FORM.some((name) => name in env)) return 'programmatic';
  return 'none';
}
