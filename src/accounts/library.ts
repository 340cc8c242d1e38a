import { randomUUID } from 'node:crypto';
import { BadRequest, Conflict } from '../errors.ts';
import { isUniqueViolation, type AccountQueries, type AccountRow, type Profile } from '../store/queries/accounts.ts';
import { normaliseEmail, normalisePhone, normaliseUsername, type Identifier } from './identifier.ts';
import { checkPasswordPolicy, type PasswordHasher, type PasswordPolicy } from './passwords.ts';
import { subjectOf } from './subject.ts';

export interface Registration {
  email?: string | undefined;
  phone?: string | undefined;
  username?: string | undefined;
  name?: string | undefined;
  password: string;
}

export type LocalLogin = { ok: true; account: AccountRow } | { ok: false; reason: 'unknown_user' | 'wrong_password' };

/** Normalised identifiers of a registration; throws a BadRequest naming the field that is wrong. */
export function normaliseIdentifiers(input: { email?: unknown; phone?: unknown; username?: unknown }) {
  const read = (field: 'email' | 'phone' | 'username', normalise: (raw: string) => string | undefined, what: string) => {
    const raw = input[field];
    if (raw === undefined || raw === null || raw === '') return undefined;
    const value = typeof raw === 'string' ? normalise(raw) : undefined;
    if (value === undefined) throw new BadRequest(`Enter ${what}.`, `invalid_${field}`, { field });
    return value;
  };
  const ids = {
    email: read('email', normaliseEmail, 'a valid email address'),
    phone: read('phone', normalisePhone, 'a phone number of 6 to 15 digits'),
    username: read('username', normaliseUsername, 'a username of letters, digits, dots, dashes or underscores (not only digits)'),
  };
  if (!ids.email && !ids.phone && !ids.username) {
    throw new BadRequest('Enter an email address, a phone number or a username.', 'identifier_required');
  }
  return ids;
}

/** "An account with this email address already exists.", and so on for each identifier field. */
export function accountExists(field: 'email' | 'phone' | 'username' | undefined): Conflict {
  const noun = field === 'email' ? 'email address' : field === 'phone' ? 'phone number' : (field ?? 'account');
  return new Conflict(`An account with this ${noun} already exists.`, 'account_exists');
}

/** Maps a unique violation on the accounts table to the sentence a person can act on. */
export function conflictFor(error: Error & { constraint?: string }): Conflict {
  return accountExists((['email', 'phone', 'username'] as const).find((field) => (error.constraint ?? '').includes(field)));
}

/** Ferry's own accounts: registration, password checks and look-ups, over the accounts table. */
export function createAccountLibrary(deps: { queries: AccountQueries; hasher: PasswordHasher; policy: PasswordPolicy; subjectPrefix: string }) {
  const { queries, hasher, policy, subjectPrefix } = deps;

  return {
    findBySub: (sub: string) => queries.findBy('sub', sub),
    findByIdentifier: (identifier: Identifier) => queries.findBy(identifier.kind, identifier.value),

    async register(input: Registration): Promise<AccountRow> {
      const ids = normaliseIdentifiers(input);
      const password = checkPasswordPolicy(input.password, policy);
      const id = randomUUID();
      const name = typeof input.name === 'string' ? input.name.trim().slice(0, 200) : '';
      const profile: Profile = { id, ...definedOnly({ ...ids, name: name || undefined }), emailVerified: false, phoneVerified: false };
      try {
        return await queries.insert({ id, sub: subjectOf(subjectPrefix, id), ...ids, passwordHash: await hasher.hash(password), profile });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflictFor(error);
        throw error;
      }
    },

    /**
     * Checks a password against a local account, spending the same time whether or not it exists.
     * A hash that is not Ferry's current argon2id (a migrated user's adopted bcrypt hash) is
     * replaced by one now that the password is known to be right. `found` is the identifier's
     * account when the caller has just read it.
     */
    async verifyLogin(identifier: Identifier, password: string, found?: AccountRow): Promise<LocalLogin> {
      const account = found ?? (await queries.findBy(identifier.kind, identifier.value));
      if (!account) {
        await hasher.decoy(password);
        return { ok: false, reason: 'unknown_user' };
      }
      const valid = await hasher.verify(account.password_hash, password);
      if (!valid) return { ok: false, reason: 'wrong_password' };
      if (account.password_hash && hasher.needsUpgrade(account.password_hash)) {
        await queries.update(account.id, { passwordHash: await hasher.hash(password) });
      }
      return { ok: true, account };
    },

    verifyPassword: (account: AccountRow, password: string) => hasher.verify(account.password_hash, password),

    async setPassword(id: string, password: string): Promise<AccountRow | undefined> {
      const normalised = checkPasswordPolicy(password, policy);
      return queries.update(id, { passwordHash: await hasher.hash(normalised) });
    },
  };
}

export type AccountLibrary = ReturnType<typeof createAccountLibrary>;

export function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
