import type { Queryable } from '../db.ts';

export interface AdminKeyRow {
  id: string;
  name: string;
  role: string;
  key_sha256: string;
  created_at: Date;
  last_used_at: Date | null;
}

/** Last use is written at most once a minute per key: a busy script should not write on every call. */
const TOUCH_EVERY = "interval '1 minute'";

/** SQL for `admin_keys` (migration 016). */
export function createAdminKeyQueries(db: Queryable) {
  return {
    async insert(key: { id: string; name: string; role: string; keySha256: string }): Promise<AdminKeyRow> {
      const { rows } = await db.query<AdminKeyRow>(
        'insert into admin_keys (id, name, role, key_sha256) values ($1, $2, $3, $4) on conflict (name) do nothing returning *',
        [key.id, key.name, key.role, key.keySha256],
      );
      return rows[0]!;
    },

    async list(): Promise<AdminKeyRow[]> {
      const { rows } = await db.query<AdminKeyRow>('select * from admin_keys order by created_at, name');
      return rows;
    },

    async byHash(keySha256: string): Promise<AdminKeyRow | undefined> {
      const { rows } = await db.query<AdminKeyRow>('select * from admin_keys where key_sha256 = $1', [keySha256]);
      return rows[0];
    },

    async byId(id: string): Promise<AdminKeyRow | undefined> {
      const { rows } = await db.query<AdminKeyRow>('select * from admin_keys where id = $1', [id]);
      return rows[0];
    },

    async touch(id: string): Promise<void> {
      await db.query(`update admin_keys set last_used_at = now() where id = $1 and (last_used_at is null or last_used_at < now() - ${TOUCH_EVERY})`, [id]);
    },

    /** Deletes the key with this id or name; false when there is none. */
    async delete(idOrName: string): Promise<boolean> {
      const { rowCount } = await db.query('delete from admin_keys where id = $1 or name = $1', [idOrName]);
      return rowCount > 0;
    },
  };
}

export type AdminKeyQueries = ReturnType<typeof createAdminKeyQueries>;
