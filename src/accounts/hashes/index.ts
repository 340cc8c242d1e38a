import { argon2Format } from './argon2.ts';
import { bcryptFormat, djangoBcryptFormat, wordpressBcryptFormat } from './bcrypt.ts';
import { md5CryptFormat, shaCryptFormat } from './crypt.ts';
import { canonicalDeclared, declaredFormat, djangoSaltedFormat } from './declared.ts';
import { HashProblem } from './encoding.ts';
import type { HashFormat } from './format.ts';
import { ldapFormat } from './ldap.ts';
import { phpassFormat } from './phpass.ts';
import { aspNetIdentityFormat, djangoPbkdf2Format, phcPbkdf2Format } from './pbkdf2.ts';
import { scryptFormat } from './scrypt.ts';

export { HashProblem } from './encoding.ts';
export { LIMITS } from './limits.ts';
export { BCRYPT_MAX_BYTES } from './bcrypt.ts';

/** Every format Ferry verifies, tried in this order (ASP.NET Identity, plain base64, last). */
export const FORMATS: readonly HashFormat[] = [
  bcryptFormat,
  wordpressBcryptFormat,
  argon2Format,
  scryptFormat,
  phcPbkdf2Format,
  shaCryptFormat,
  md5CryptFormat,
  phpassFormat,
  djangoPbkdf2Format,
  djangoBcryptFormat,
  djangoSaltedFormat,
  ldapFormat,
  declaredFormat,
  aspNetIdentityFormat,
];

export const formatOf = (stored: string): HashFormat | undefined => FORMATS.find((format) => format.matches(stored));

export type Recognised = { ok: true; stored: string; format: string } | { ok: false; problem: string };

/**
 * Reads a hash given at import: a self-describing string, or a declared object (salted digests,
 * Firebase scrypt). Returns the string to store, or a sentence saying why it cannot be used —
 * an unknown format, a malformed value or a cost above LIMITS — so that no account is created
 * that could never sign in.
 */
export function recogniseHash(input: unknown): Recognised {
  try {
    const stored = typeof input === 'object' && input !== null && !Array.isArray(input) ? canonicalDeclared(input) : input;
    if (typeof stored !== 'string' || stored === '' || stored.length > 4096)
      return { ok: false, problem: 'passwordHash must be a hash string or a declared-format object.' };
    const format = formatOf(stored);
    if (!format)
      return { ok: false, problem: `Unknown password hash format ("${stored.slice(0, 12)}…"); see docs/password-hashes.md for the formats Ferry reads.` };
    format.read(stored);
    return { ok: true, stored, format: format.name };
  } catch (error) {
    if (error instanceof HashProblem) return { ok: false, problem: error.message };
    throw error;
  }
}

/** Checks a password against a stored legacy hash; false for a wrong password and for an unusable hash. */
export async function verifyLegacyHash(stored: string, password: string): Promise<boolean> {
  const format = formatOf(stored);
  if (!format) return false;
  try {
    return await format.read(stored)(password);
  } catch {
    return false;
  }
}
