import type { Directory, DirectoryUser, NewUser, UserChanges } from '../../federation/directory.ts';

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

/** The directory (which routes each operation by mode) as the admin API and console use it. */
export function createUserLibrary(directory: Directory) {
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
    delete: (sub: string) => directory.delete(sub),
    setPassword: (sub: string, password: string) => directory.setPassword(sub, password),
  };
}

export type UserLibrary = ReturnType<typeof createUserLibrary>;
