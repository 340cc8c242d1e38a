import type { Directory, DirectoryUser, NewUser, UserChanges } from '../../connection/directory.ts';
import type { OidcModelQueries } from '../../store/queries/oidc-models.ts';

/** Profile keys that never leave Ferry, not even through the admin API. */
const HIDDEN = /pass(word)?|hash|salt|secret|^token$/i;

export type AdminUser = DirectoryUser;

/** A user without password material or tokens in its profile. */
export function publicUser(user: DirectoryUser): AdminUser {
  return { ...user, profile: Object.fromEntries(Object.entries(user.profile).filter(([key]) => !HIDDEN.test(key))) };
}

export interface UserPage {
  total: number;
  page: number;
  limit: number;
  users: AdminUser[];
}

/**
 * The directory (which routes each operation by mode) as the admin API and console use it. A
 * password set by an administrator, or a deletion, also ends the user's browser sessions, grants
 * and tokens: a reset after an account was taken over must lock the taker out.
 */
export function createUserLibrary(directory: Directory, sessions: Pick<OidcModelQueries, 'revokeAccount'>) {
  return {
    async list(page: number, limit: number): Promise<UserPage> {
      const { total, users } = await directory.list(page, limit);
      return { total, page, limit, users: users.map(publicUser) };
    },
    async search(keyword: string, page: number, limit: number): Promise<UserPage> {
      const { total, users } = await directory.search(keyword, page, limit);
      return { total, page, limit, users: users.map(publicUser) };
    },
    get: async (sub: string) => publicUser(await directory.get(sub)),
    create: async (input: NewUser) => publicUser(await directory.create(input)),
    update: async (sub: string, changes: UserChanges) => publicUser(await directory.update(sub, changes)),
    async delete(sub: string): Promise<void> {
      await directory.delete(sub);
      await sessions.revokeAccount(sub);
    },
    async setPassword(sub: string, password: string): Promise<void> {
      await directory.setPassword(sub, password);
      await sessions.revokeAccount(sub);
    },
  };
}

export type UserLibrary = ReturnType<typeof createUserLibrary>;
