import type { Profile } from '../store/queries/accounts.ts';

/** Claims each scope releases, in oidc-provider's format. */
export const SCOPE_CLAIMS = {
  profile: [
    'name',
    'nickname',
    'given_name',
    'family_name',
    'middle_name',
    'preferred_username',
    'picture',
    'gender',
    'birthdate',
    'website',
    'locale',
    'zoneinfo',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
} as const;

/** profile field → claim, for fields whose value is a string. */
const STRING_FIELDS: Record<string, string> = {
  email: 'email',
  phone: 'phone_number',
  username: 'preferred_username',
  name: 'name',
  nickname: 'nickname',
  givenName: 'given_name',
  familyName: 'family_name',
  middleName: 'middle_name',
  photo: 'picture',
  gender: 'gender',
  website: 'website',
  locale: 'locale',
  zoneinfo: 'zoneinfo',
};

/** Never released, whatever the configuration says. */
const WITHHELD = /pass(word|wd)?|salt|secret|^token$|hash/i;

/**
 * Maps a profile (as a script returns it, or as Ferry stores it) to OIDC claims, per the table in
 * product.md. Values of the wrong type are left out rather than passed on.
 */
export function profileToClaims(profile: Profile, sub: string, customClaims: readonly string[] = []): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub };
  for (const [field, claim] of Object.entries(STRING_FIELDS)) {
    const value = profile[field];
    if (typeof value === 'string' && value !== '') claims[claim] = value;
    else if (typeof value === 'number' && field === 'phone') claims[claim] = String(value);
  }
  // A verification flag says something only about a value that is there: no phone_number_verified
  // for a user without a phone (a relying party could read `false` as "has an unverified phone").
  if (claims.email !== undefined) setBoolean(claims, 'email_verified', profile.emailVerified);
  if (claims.phone_number !== undefined) setBoolean(claims, 'phone_number_verified', profile.phoneVerified);
  const birthdate = toDateString(profile.birthdate);
  if (birthdate) claims.birthdate = birthdate;
  const address = toAddress(profile.address);
  if (address) claims.address = address;
  const updatedAt = toEpochSeconds(profile.updatedAt);
  if (updatedAt !== undefined) claims.updated_at = updatedAt;
  for (const name of customClaims) {
    if (!WITHHELD.test(name) && profile[name] !== undefined && !(name in claims)) claims[name] = profile[name];
  }
  return claims;
}

/** MySQL gives booleans as 0/1 and some drivers as 't'/'f'. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === '1' || value === 't' || value === 'true') return true;
  if (value === 0 || value === '0' || value === 'f' || value === 'false') return false;
  return undefined;
}

function setBoolean(claims: Record<string, unknown>, claim: string, value: unknown) {
  const bool = toBoolean(value);
  if (bool !== undefined) claims[claim] = bool;
}

function toDateString(value: unknown): string | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
  if (typeof value === 'string' && /^\d{4}(-\d{2}-\d{2})?/.test(value)) return value.slice(0, 10);
  return undefined;
}

function toAddress(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string' && value !== '') return { formatted: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const allowed = ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'];
  const address = Object.fromEntries(Object.entries(value).filter(([key, item]) => allowed.includes(key) && typeof item === 'string'));
  return Object.keys(address).length > 0 ? address : undefined;
}

function toEpochSeconds(value: unknown): number | undefined {
  const time =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'string'
        ? Date.parse(value)
        : typeof value === 'number'
          ? value * (value < 1e11 ? 1000 : 1)
          : NaN;
  return Number.isFinite(time) ? Math.floor(time / 1000) : undefined;
}
