import { createHash, randomBytes } from 'node:crypto';
import { Conflict, NotFound } from '../../errors.ts';
import type { AdminKeyQueries, AdminKeyRow } from '../../store/queries/admin-keys.ts';
import type { Role } from '../roles.ts';

/** What is shown of a key: never the key, nor its hash. */
export interface AdminKeyInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Keys start with this, so a leaked one is recognisable in a log or a secret scanner. */
const PREFIX = 'ferry_ak_';

export const sha256Hex = (key: string) => createHash('sha256').update(key).digest('hex');

const info = (row: AdminKeyRow): AdminKeyInfo => ({
  id: row.id,
  name: row.name,
  role: row.role as Role,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
});

/** Named admin keys: created (the key shown once), listed and revoked. */
export function createAdminKeyLibrary(queries: AdminKeyQueries) {
  return {
    /** A new key of 256 random bits; only its SHA-256 is stored. */
    async create(name: string, role: Role): Promise<AdminKeyInfo & { key: string }> {
      const key = PREFIX + randomBytes(32).toString('base64url');
      const row = await queries.insert({ id: randomBytes(8).toString('hex'), name, role, keySha256: sha256Hex(key) });
      if (!row) throw new Conflict(`There is an admin key named "${name}" already; revoke it first or choose another name.`, 'name_taken');
      return { ...info(row), key };
    },

    async list(): Promise<AdminKeyInfo[]> {
      return (await queries.list()).map(info);
    },

    /** Revokes by id or by name: the next request with that key is refused. */
    async revoke(idOrName: string): Promise<void> {
      if (!(await queries.delete(idOrName))) throw new NotFound(`There is no admin key "${idOrName}".`);
    },
  };
}

export type AdminKeyLibrary = ReturnType<typeof createAdminKeyLibrary>;
