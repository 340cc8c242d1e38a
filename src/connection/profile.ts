import { normaliseEmail, normalisePhone, normaliseUsername } from '../accounts/identifier.ts';
import type { Profile } from '../store/queries/accounts.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Never stored or passed on: the legacy hash, salts and the like. */
const DROPPED_KEYS = /^(password|passwordHash|password_hash|hashedPassword|salt|passwordSalt)$/i;
const STRING_FIELDS = [
  'email',
  'phone',
  'username',
  'name',
  'nickname',
  'givenName',
  'familyName',
  'middleName',
  'photo',
  'gender',
  'website',
  'locale',
  'zoneinfo',
  'company',
];
const BOOLEAN_FIELDS = ['emailVerified', 'phoneVerified'];
const MAX_BYTES = 64 * 1024;
const MAX_DEPTH = 8;
const MAX_STRING = 4096;

export type ProfileCheck = { ok: true; profile: Profile; legacyId: string } | { ok: false; problem: string };

/**
 * Checks a profile a script returned: a non-empty `id`, plain JSON-like data, no prototype keys,
 * strings where strings belong, bounded size. Returns a clean copy without password material.
 */
export function checkProfile(value: unknown): ProfileCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: 'The script must return a profile object.' };
  let profile: Profile;
  try {
    profile = clean(value, 0) as Profile;
  } catch (error) {
    if (error instanceof ProfileProblem) return { ok: false, problem: error.message };
    throw error;
  }
  const id = profile.id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).trim() === '') {
    return { ok: false, problem: 'The profile must have a non-empty id (a string or a number).' };
  }
  for (const field of STRING_FIELDS) {
    const item = profile[field];
    if (item !== undefined && item !== null && typeof item !== 'string' && !(field === 'phone' && typeof item === 'number')) {
      return { ok: false, problem: `The profile field "${field}" must be a string.` };
    }
  }
  for (const field of BOOLEAN_FIELDS) {
    const item = profile[field];
    if (item !== undefined && item !== null && typeof item !== 'boolean' && typeof item !== 'number' && typeof item !== 'string') {
      return { ok: false, problem: `The profile field "${field}" must be a boolean.` };
    }
  }
  const size = Buffer.byteLength(JSON.stringify(profile));
  if (size > MAX_BYTES) return { ok: false, problem: `The profile is ${size} bytes; at most ${MAX_BYTES} are accepted.` };
  return { ok: true, profile, legacyId: String(id) };
}

class ProfileProblem extends Error {}

/** A prototype-free deep copy of plain data; throws a ProfileProblem saying what is wrong. */
function clean(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProfileProblem(`The profile is nested more than ${MAX_DEPTH} levels deep.`);
  if (typeof value === 'string') {
    if (value.length > MAX_STRING) throw new ProfileProblem(`A profile value is longer than ${MAX_STRING} characters.`);
    return value;
  }
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw new ProfileProblem(`The profile may not contain the key "${key}".`);
    if (DROPPED_KEYS.test(key) || item === undefined) continue;
    const copy = clean(item, depth + 1);
    if (copy !== undefined) out[key] = copy;
  }
  return out;
}

/** The normalised identifiers a profile carries (for the unique columns of the accounts table). */
export function profileIdentifiers(profile: Profile) {
  const read = (field: string, normalise: (raw: string) => string | undefined) => {
    const raw = profile[field];
    return typeof raw === 'string' || typeof raw === 'number' ? normalise(String(raw)) : undefined;
  };
  return { email: read('email', normaliseEmail), phone: read('phone', normalisePhone), username: read('username', normaliseUsername) };
}
