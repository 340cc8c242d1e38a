import type { Queryable } from '../db.ts';

/** SQL for the lazy migration's progress: who has been copied into Ferry, and when. */
export function createMigrationQueries(db: Queryable) {
  return {
    /** Accounts copied from the legacy database, and accounts that only ever lived in Ferry. */
    async accountCounts(): Promise<{ migrated: number; local: number }> {
      const { rows } = await db.query<{ migrated: number; local: number }>(
        `select count(*) filter (where legacy_id is not null)::int as migrated,
                count(*) filter (where legacy_id is null)::int as local
         from accounts`,
      );
      return rows[0] ?? { migrated: 0, local: 0 };
    },

    /** Accounts from the legacy database by how they came: a sign-in (or reset), a bulk import, a sweep. */
    async originCounts(): Promise<{ bySignIn: number; imported: number; swept: number; inFerry: number }> {
      const { rows } = await db.query<{ bySignIn: number; imported: number; swept: number; inFerry: number }>(
        `select count(*) filter (where migrated_at is not null)::int as "bySignIn",
                count(*) filter (where imported_at is not null and swept_at is null)::int as imported,
                count(*) filter (where swept_at is not null)::int as swept,
                count(*)::int as "inFerry"
         from accounts where legacy_id is not null`,
      );
      return rows[0] ?? { bySignIn: 0, imported: 0, swept: 0, inFerry: 0 };
    },

    /** Migrations per UTC day over the last `days` days (today included); days without any are absent. */
    async migratedPerDay(days: number): Promise<{ day: string; count: number }[]> {
      const { rows } = await db.query<{ day: string; count: number }>(
        `select to_char(migrated_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as count
         from accounts
         where migrated_at >= (date_trunc('day', now() at time zone 'UTC') - make_interval(days => $1::int - 1)) at time zone 'UTC'
         group by 1 order by 1`,
        [days],
      );
      return rows;
    },
  };
}

export type MigrationQueries = ReturnType<typeof createMigrationQueries>;
