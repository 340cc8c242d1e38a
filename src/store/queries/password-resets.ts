import type { Queryable } from '../db.ts';

/** SQL for password reset links (stored as token hashes). Times are the database's. */
export function createPasswordResetQueries(db: Queryable) {
  return {
    async insert(tokenHash: string, sub: string, minutes: number): Promise<void> {
      await db.query(`insert into password_resets (token_hash, sub, expires_at) values ($1, $2, now() + make_interval(mins => $3::int))`, [tokenHash, sub, minutes]);
    },

    /** The subject of a link that is unused and not expired. */
    async peek(tokenHash: string): Promise<string | undefined> {
      const { rows } = await db.query<{ sub: string }>('select sub from password_resets where token_hash = $1 and used_at is null and expires_at > now()', [tokenHash]);
      return rows[0]?.sub;
    },

    /** Uses a link: of concurrent callers with the same link, one gets its subject. */
    async consume(tokenHash: string): Promise<string | undefined> {
      const { rows } = await db.query<{ sub: string }>(
        'update password_resets set used_at = now() where token_hash = $1 and used_at is null and expires_at > now() returning sub',
        [tokenHash],
      );
      return rows[0]?.sub;
    },

    /** After a reset: the subject's other links stop working. */
    async deleteOthers(sub: string, keepHash: string): Promise<void> {
      await db.query('delete from password_resets where sub = $1 and token_hash <> $2', [sub, keepHash]);
    },

    async prune(): Promise<number> {
      const { rowCount } = await db.query(`delete from password_resets where expires_at < now() - interval '1 day'`);
      return rowCount;
    },
  };
}

export type PasswordResetQueries = ReturnType<typeof createPasswordResetQueries>;
