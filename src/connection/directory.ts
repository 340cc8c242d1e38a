import { normaliseIdentifiers, conflictFor, type AccountLibrary } from '../accounts/library.ts';
import { checkPasswordPolicy, type PasswordPolicy } from '../accounts/passwords.ts';
import { idOfSubject, subjectOf } from '../accounts/subject.ts';
import { BadRequest, FerryError, NotFound } from '../errors.ts';
import type { Outcome } from '../sandbox/index.ts';
import { isUniqueViolation, type AccountQueries, type AccountRow, type Profile } from '../store/queries/accounts.ts';
import type { Connection, ScriptName } from './connection.ts';
import { failureOf } from './failures.ts';
import { checkProfile, profileIdentifiers } from './profile.ts';
import { scriptContext, type ScriptRunner } from './scripts.ts';
import type { ConnectionSettings } from './settings.ts';

/** A user as the admin API shows it, wherever it lives. */
export interface DirectoryUser {
  /** The subject relying parties see. */
  sub: string;
  email?: string | undefined;
  phone?: string | undefined;
  username?: string | undefined;
  name?: string | undefined;
  /** Where the user lives: Ferry's own account (registered or migrated) or the legacy database. */
  source: 'local' | 'migrated' | 'legacy';
  legacyId?: string | undefined;
  migratedAt?: string | undefined;
  createdAt?: string | undefined;
  profile: Profile;
}

export interface NewUser {
  email?: string | undefined;
  phone?: string | undefined;
  username?: string | undefined;
  name?: string | undefined;
  password: string;
}

export type UserChanges = Partial<Pick<Profile, 'email' | 'phone' | 'username' | 'name' | 'nickname' | 'photo'>> & Record<string, unknown>;

const LIST_LIMIT = 100;

/**
 * The user operations of the admin API: list, search, get, create, update, delete, set password.
 * They go to Ferry's own accounts unless the connection is an enabled CUSTOM_USER_STORE, where
 * they go to its scripts. Users are named by their subject.
 */
export function createDirectory(deps: {
  issuer: string;
  subjectPrefix: string;
  policy: PasswordPolicy;
  accounts: AccountLibrary;
  queries: AccountQueries;
  settings: ConnectionSettings;
  runner: ScriptRunner;
  forget: (sub: string) => void;
}) {
  const { queries, runner } = deps;
  const context = () => scriptContext(deps.issuer, {});
  const custom = async (): Promise<Connection | undefined> => {
    const connection = await deps.settings.current();
    return connection.enabled && connection.mode === 'CUSTOM_USER_STORE' ? connection : undefined;
  };
  const legacyId = (sub: string) => {
    const id = idOfSubject(deps.subjectPrefix, sub);
    if (id === undefined) throw new NotFound('No such user.');
    return id;
  };

  /** Runs a script whose failure is the operator's problem: its message is shown (this is the admin API); failures.ts says with what status. */
  const script = async <T>(connection: Connection, name: ScriptName, args: unknown[], secrets: string[] = []): Promise<T> => {
    const outcome: Outcome<T> = await runner.run<T>(connection, name, [...args, context()], { secrets });
    if (outcome.ok) return outcome.value;
    const { status, code } = failureOf(outcome, name).rule.admin;
    const message =
      status === 503
        ? `The ${name} script could not reach the legacy database: ${outcome.message}`
        : status === 400
          ? `The ${name} script failed (${outcome.kind}): ${outcome.message}`
          : outcome.message;
    throw new FerryError(message, { status, code, expose: true });
  };

  const fromLegacy = (value: unknown): DirectoryUser => {
    const check = checkProfile(value);
    if (!check.ok) throw new BadRequest(`A script returned an unusable profile: ${check.problem}`, 'invalid_profile');
    const ids = profileIdentifiers(check.profile);
    return {
      sub: subjectOf(deps.subjectPrefix, check.legacyId),
      ...ids,
      name: asString(check.profile.name),
      source: 'legacy',
      legacyId: check.legacyId,
      profile: check.profile,
    };
  };

  const local = async (sub: string): Promise<AccountRow> => {
    const account = await queries.findBy('sub', sub);
    if (!account) throw new NotFound('No such user.');
    return account;
  };

  return {
    async list(page: number, limit: number): Promise<{ total: number; users: DirectoryUser[] }> {
      const size = Math.min(Math.max(1, limit), LIST_LIMIT);
      const connection = await custom();
      if (connection) {
        const result = await script<{ totalCount?: unknown; list?: unknown }>(connection, 'listUsers', [page, size]);
        if (!result || !Array.isArray(result.list)) throw new BadRequest('The listUsers script must return { totalCount, list }.', 'invalid_result');
        return { total: Number(result.totalCount) || 0, users: result.list.map(fromLegacy) };
      }
      const { rows, total } = await queries.list((Math.max(1, page) - 1) * size, size);
      return { total, users: rows.map(fromAccount) };
    },

    async search(keyword: string, page = 1, limit = LIST_LIMIT): Promise<{ total: number; users: DirectoryUser[] }> {
      const size = Math.min(Math.max(1, limit), LIST_LIMIT);
      const offset = (Math.max(1, page) - 1) * size;
      const connection = await custom();
      if (connection) {
        const found = await script<unknown>(connection, 'searchUser', [keyword]);
        if (!Array.isArray(found)) throw new BadRequest('The searchUser script must return an array of profiles.', 'invalid_result');
        // searchUser answers every match at once; the page is cut from them here.
        return { total: found.length, users: found.slice(offset, offset + size).map(fromLegacy) };
      }
      const { rows, total } = await queries.search(keyword, offset, size);
      return { total, users: rows.map(fromAccount) };
    },

    async get(sub: string): Promise<DirectoryUser> {
      const connection = await custom();
      if (connection) {
        const found = await script<unknown>(connection, 'getUser', [{ id: legacyId(sub) }]);
        if (!found) throw new NotFound('No such user.');
        return fromLegacy(found);
      }
      return fromAccount(await local(sub));
    },

    async create(input: NewUser): Promise<DirectoryUser> {
      const ids = normaliseIdentifiers(input);
      checkPasswordPolicy(input.password, deps.policy);
      const connection = await custom();
      if (connection) {
        return fromLegacy(
          await script(connection, 'createUser', [{ ...ids, password: input.password, nickname: input.name, photo: undefined }], [input.password]),
        );
      }
      return fromAccount(await deps.accounts.register({ ...ids, name: input.name, password: input.password }));
    },

    async update(sub: string, changes: UserChanges): Promise<DirectoryUser> {
      if ('password' in changes) throw new BadRequest('Set passwords with the password operation.', 'use_password_endpoint');
      const connection = await custom();
      if (connection) {
        deps.forget(sub);
        return fromLegacy(await script(connection, 'updateUser', [legacyId(sub), changes]));
      }
      const account = await local(sub);
      const ids = normaliseIdentifiers({
        email: changes.email ?? account.email,
        phone: changes.phone ?? account.phone,
        username: changes.username ?? account.username,
      });
      const profile: Profile = { ...account.profile, ...changes, updatedAt: new Date().toISOString() };
      try {
        const updated = await queries.update(account.id, { email: ids.email ?? null, phone: ids.phone ?? null, username: ids.username ?? null, profile });
        return fromAccount(updated ?? account);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflictFor(error);
        throw error;
      }
    },

    async delete(sub: string): Promise<void> {
      const connection = await custom();
      if (connection) {
        deps.forget(sub);
        await script(connection, 'deleteUser', [legacyId(sub)]);
        return;
      }
      const account = await local(sub);
      await queries.delete(account.id);
    },

    async setPassword(sub: string, password: string): Promise<void> {
      checkPasswordPolicy(password, deps.policy);
      const connection = await custom();
      if (connection) {
        await script(connection, 'updateUser', [legacyId(sub), { password }], [password]);
        return;
      }
      const account = await local(sub);
      await deps.accounts.setPassword(account.id, password);
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;

function fromAccount(account: AccountRow): DirectoryUser {
  return {
    sub: account.sub,
    email: account.email ?? undefined,
    phone: account.phone ?? undefined,
    username: account.username ?? undefined,
    name: asString(account.profile.name),
    source: account.legacy_id ? 'migrated' : 'local',
    legacyId: account.legacy_id ?? undefined,
    migratedAt: account.migrated_at?.toISOString(),
    createdAt: account.created_at.toISOString(),
    profile: account.profile,
  };
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
