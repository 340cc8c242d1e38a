import type { Queryable } from '../db.ts';

export interface ThrottleRow {
  key: string;
  failures: number;
  /** Seconds since the last failure. */
  idle_seconds: number;
  /** Seconds until the key may try again (0 or less: it may). */
  blocked_seconds: number | null;
}

/** SQL for the brute-force throttle. Times are the database's, so every instance agrees. */
export function createThrottleQueries(db: Queryable) {
  return {
    async read(keys: readonly string[]): Promise<ThrottleRow[]> {
      const { rows } = await db.query<ThrottleRow>(
        `select key, failures, extract(epoch from now() - last_failure_at)::float8 as idle_seconds,
                extract(epoch from blocked_until - now())::float8 as blocked_seconds
         from login_throttle where key = any($1::text[])`,
        [keys],
      );
      return rows;
    },

    /** Counts one more failure (starting again after `resetSeconds` without one); returns the count. */
    async fail(key: string, resetSeconds: number): Promise<number> {
      const { rows } = await db.query<{ failures: number }>(
        `insert into login_throttle (key, failures, last_failure_at) values ($1, 1, now())
         on conflict (key) do update set
           failures = case when login_throttle.last_failure_at < now() - make_interval(secs => $2::float8) then 1 else login_throttle.failures + 1 end,
           blocked_until = case when login_throttle.last_failure_at < now() - make_interval(secs => $2::float8) then null else login_throttle.blocked_until end,
           last_failure_at = now()
         returning failures`,
        [key, resetSeconds],
      );
      return rows[0]!.failures;
    },

    async block(key: string, seconds: number): Promise<void> {
      await db.query('update login_throttle set blocked_until = now() + make_interval(secs => $2::float8) where key = $1', [key, seconds]);
    },

    async clear(key: string): Promise<void> {
      await db.query('delete from login_throttle where key = $1', [key]);
    },

    async prune(olderThanSeconds: number): Promise<number> {
      const { rowCount } = await db.query('delete from login_throttle where last_failure_at < now() - make_interval(secs => $1::float8)', [olderThanSeconds]);
      return rowCount;
    },
  };
}

export type ThrottleQueries = ReturnType<typeof createThrottleQueries>;
