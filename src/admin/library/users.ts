import type { Directory, DirectoryUser, NewUser, UserChanges } from '../../connection/directory.ts';
import { NotFound } from '../../errors.ts';
import type { OidcModelQueries } from '../../store/queries/oidc-models.ts';
import type { SecondFactorQueries } from '../../store/queries/second-factors.ts';
import type { AccountSession, SessionQueries } from '../../store/queries/sessions.ts';
import { identifierKey, type UserActivityQueries } from '../../store/queries/user-activity.ts';

/** Profile keys that never leave Ferry, not even through the admin API. */
const HIDDEN = /pass(word)?|hash|salt|secret|^token$/i;

/** A user with what Ferry saw of them: sign-ins and a block. */
export type AdminUser = DirectoryUser & { signInCount: number; lastSignInAt?: string | undefined; blockedAt?: string | undefined };

/** A user without password material or tokens in its profile. */
export function publicUser(user: DirectoryUser): DirectoryUser {
  return { ...user, profile: Object.fromEntries(Object.entries(user.profile).filter(([key]) => !HIDDEN.test(key))) };
}

export interface UserPage {
  total: number;
  page: number;
  limit: number;
  users: AdminUser[];
}

export interface UserLibraryStores {
  oidcModels: Pick<OidcModelQueries, 'revokeAccount'>;
  activity: Pick<UserActivityQueries, 'of' | 'block' | 'unblock' | 'delete'>;
  sessions: Pick<SessionQueries, 'of' | 'end'>;
  /** A deleted user's second factors go with them: a user created later under the same subject starts without. */
  secondFactors: Pick<SecondFactorQueries, 'removeAll'>;
}

/**
 * The directory (which routes each operation by mode) as the admin API and console use it. A
 * password set by an administrator, a deletion or a block also ends the user's browser sessions,
 * grants and tokens: a reset after an account was taken over must lock the taker out.
 */
export function createUserLibrary(directory: Directory, stores: UserLibraryStores) {
  const { oidcModels, activity, sessions, secondFactors } = stores;
  /** Each user with their activity, in one query for a page. */
  const withActivity = async (users: readonly DirectoryUser[]): Promise<AdminUser[]> => {
    const found = await activity.of(users.map((user) => user.sub));
    return users.map((user) => {
      const seen = found.get(user.sub);
      return {
        ...publicUser(user),
        signInCount: seen?.signInCount ?? 0,
        lastSignInAt: seen?.lastSignInAt?.toISOString(),
        blockedAt: seen?.blockedAt?.toISOString(),
      };
    });
  };
  const one = async (user: DirectoryUser) => (await withActivity([user]))[0]!;

  return {
    async list(page: number, limit: number): Promise<UserPage> {
      const { total, users } = await directory.list(page, limit);
      return { total, page, limit, users: await withActivity(users) };
    },
    async search(keyword: string, page: number, limit: number): Promise<UserPage> {
      const { total, users } = await directory.search(keyword, page, limit);
      return { total, page, limit, users: await withActivity(users) };
    },
    get: async (sub: string) => one(await directory.get(sub)),
    create: async (input: NewUser) => one(await directory.create(input)),
    update: async (sub: string, changes: UserChanges) => one(await directory.update(sub, changes)),
    async delete(sub: string): Promise<void> {
      await directory.delete(sub);
      await oidcModels.revokeAccount(sub);
      await activity.delete(sub);
      await secondFactors.removeAll(sub);
    },
    async setPassword(sub: string, password: string): Promise<void> {
      await directory.setPassword(sub, password);
      await oidcModels.revokeAccount(sub);
    },

    /** The user's live browser sessions (404 for a user the directory does not know). */
    async sessions(sub: string): Promise<AccountSession[]> {
      await directory.get(sub);
      return sessions.of(sub);
    },
    /** Ends one session (by uid) or, without one, all of them: those browsers must sign in again. */
    async endSessions(sub: string, uid?: string): Promise<{ ended: number }> {
      await directory.get(sub);
      const ended = await sessions.end(sub, uid);
      if (uid !== undefined && ended === 0) throw new NotFound('No such session.');
      return { ended };
    },

    /**
     * Blocks a user: no sign-in (the login page says config `blockedUserMessage`, whatever the
     * password), and every session, grant and token revoked, so no refresh either. A
     * custom-store user is recorded by subject and by their identifiers as the directory has them
     * now, since the sign-in refuses them before the password (and so the subject) is known.
     */
    async block(sub: string): Promise<AdminUser> {
      const user = await directory.get(sub);
      const identifiers =
        user.source === 'legacy' ? (['email', 'phone', 'username'] as const).flatMap((kind) => (user[kind] ? [identifierKey(kind, user[kind])] : [])) : [];
      await activity.block(sub, identifiers);
      await oidcModels.revokeAccount(sub);
      return one(user);
    },
    /**
     * Removes a user's second factors (a lost phone and no recovery code left): the next sign-in
     * asks for the password alone. Every session, grant and token ends too, so whoever held a
     * session opened with the old factor signs in again.
     */
    async resetSecondFactors(sub: string): Promise<{ removed: number }> {
      await directory.get(sub);
      const removed = await secondFactors.removeAll(sub);
      await oidcModels.revokeAccount(sub);
      return { removed };
    },
    async unblock(sub: string): Promise<AdminUser> {
      const user = await directory.get(sub);
      await activity.unblock(sub);
      return one(user);
    },
  };
}

export type UserLibrary = ReturnType<typeof createUserLibrary>;
