import { BadRequest } from '../../errors.ts';
import { decodeUriPart, isSecretName, MASK, SECRET_PARAM, URI_NAME } from '../../sandbox/secrets.ts';

/** MASK is what a secret looks like on its way out; sending it back unchanged keeps the stored value. */
export { isSecretName, MASK, secretValues } from '../../sandbox/secrets.ts';

/** The URI form's variable and the programmatic form's five: a connection uses one form or the other. */
export const URI_FORM = ['DB_CONNECTION_URI'] as const;
export const PROGRAMMATIC_FORM = ['DB_HOST', 'DB_PORT', 'DB_USERNAME', 'DB_PASSWORD', 'DB_DATABASE'] as const;

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
  if (URI_NAME.test(name) && stored !== undefined) return restoreUriSecrets(name, sent, stored);
  return sent;
}

/**
 * A changed URI whose password (or secret parameter) is still the mask gets the stored one back,
 * but only for the same host and port: otherwise whoever holds the admin token could send the
 * stored password to a server of their own.
 */
function restoreUriSecrets(name: string, sent: string, stored: string): string {
  let next: URL;
  let old: URL;
  try {
    next = new URL(sent);
    old = new URL(stored);
  } catch {
    return sent;
  }
  const maskedPassword = decodeUriPart(next.password) === MASK;
  const maskedParams = [...next.searchParams].filter(([, value]) => value === MASK).map(([key]) => key);
  if (!maskedPassword && maskedParams.length === 0) return sent;
  if (next.hostname.toLowerCase() !== old.hostname.toLowerCase() || next.port !== old.port) {
    throw new BadRequest(
      `${name} names another host or port than the stored one, so its masked password is not kept: type the password in again.`,
      'masked_value',
      { variable: name },
    );
  }
  if (maskedPassword) next.password = old.password;
  for (const key of maskedParams) {
    if (!old.searchParams.has(key))
      throw new BadRequest(`${name} was sent with ${key} masked, but no value is stored for it: send the real value.`, 'masked_value', { variable: name });
    next.searchParams.set(key, old.searchParams.get(key)!);
  }
  return next.href;
}

/**
 * The programmatic form's rule for the same thing: a DB_PASSWORD kept from the stored variables
 * (sent masked, or left out of a merge patch) stays only while DB_HOST and DB_PORT do.
 */
function refuseMovedPassword(stored: Readonly<Record<string, string>>, next: Readonly<Record<string, string>>, kept: boolean): void {
  if (!kept || !stored.DB_PASSWORD || next.DB_PASSWORD !== stored.DB_PASSWORD) return;
  const moved = (['DB_HOST', 'DB_PORT'] as const).find((name) => (next[name] ?? '') !== (stored[name] ?? ''));
  if (moved) {
    throw new BadRequest(`${moved} changed, so the stored DB_PASSWORD is not kept for another server: send DB_PASSWORD again.`, 'masked_value', {
      variable: 'DB_PASSWORD',
    });
  }
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
  refuseMovedPassword(stored, next, patch.DB_PASSWORD === undefined || patch.DB_PASSWORD === MASK);
  return next;
}

/** Replaces the variables with `sent` (a full set, as a form submits it), keeping stored secrets sent back masked. */
export function replaceEnv(stored: Readonly<Record<string, string>>, sent: Readonly<Record<string, string>>): Record<string, string> {
  const next = Object.fromEntries(Object.entries(sent).map(([name, value]) => [name, unmask(name, value, stored[name])]));
  refuseMovedPassword(stored, next, sent.DB_PASSWORD === MASK);
  return next;
}

/** Which form the variables use, for the console's choice between the two. */
export function envForm(env: Readonly<Record<string, string>>): 'uri' | 'programmatic' | 'none' {
  if (URI_FORM.some((name) => name in env)) return 'uri';
  if (PROGRAMMATIC_FORM.some((name) => name in env)) return 'programmatic';
  return 'none';
}
