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

    /**
     * Takes one attempt on `key` in one statement: counted as a failure in advance, unless the key
     * is at `maxFailures` or blocked. The row lock of the upsert makes parallel attempts queue, so
     * no more than `maxFailures` ever get past it. A key idle for `resetSeconds` starts again at 1.
     * An attempt whose failure would bring a delay (past `delay.freeFailures`) blocks the key in the
     * same statement, for as long as that failure would: while its password is checked, a burst
     * behind it is refused (after a block ends, one attempt is checked, not every one in flight).
     * Returns the count including this attempt, or undefined when it is refused.
     */
    async reserve(key: string, maxFailures: number, resetSeconds: number, delay: { freeFailures: number; baseDelayMs: number; maxDelayMs: number }): Promise<number | undefined> {
      const stale = 'login_throttle.last_failure_at < now() - make_interval(secs => $3::float8)';
      const count = `case when ${stale} then 1 else login_throttle.failures + 1 end`;
      const blockAt = (failures: string, otherwise: string) =>
        `case when ${failures} > $4::int and $5::float8 > 0
           then now() + make_interval(secs => least($5::float8 * power(2, ${failures} - $4::int - 1), $6::float8) / 1000)
           else ${otherwise} end`;
      const { rows } = await db.query<{ failures: number }>(
        `insert into login_throttle (key, failures, last_failure_at, blocked_until) values ($1, 1, now(), ${blockAt('1', 'null')})
         on conflict (key) do update set
           failures = ${count},
           blocked_until = ${blockAt(`(${count})`, `case when ${stale} then null else login_throttle.blocked_until end`)},
           last_failure_at = case when ${stale} then now() else login_throttle.last_failure_at end
         where ${stale} or (login_throttle.failures < $2 and (login_throttle.blocked_until is null or login_throttle.blocked_until <= now()))
         returning failures`,
        [key, maxFailures, resetSeconds, delay.freeFailures, delay.baseDelayMs, delay.maxDelayMs],
      );
      return rows[0]?.failures;
    },

    /** The reserved attempt failed: its failure time is now, and the key waits `blockSeconds` (0: no wait). */
    async fail(key: string, blockSeconds: number): Promise<void> {
      await db.query(
        `update login_throttle set last_failure_at = now(),
           blocked_until = case when $2::float8 > 0 then greatest(blocked_until, now() + make_interval(secs => $2::float8)) else blocked_until end
         where key = $1`,
        [key, blockSeconds],
      );
    },

    /**
     * Hands reserved attempts back (the check gave no verdict on the password, or succeeded), with
     * the block the reservation set: a key is only reserved when it is not blocked, so the block
     * it has now is that reservation's (or a parallel one's within the free failures, which bring none).
     */
    async giveBack(keys: readonly string[]): Promise<void> {
      // A key named twice (the IP of a registration, once per identifier looked up) gives back twice.
      await db.query(
        `update login_throttle set failures = greatest(failures - given.count, 0), blocked_until = null
         from (select key, count(*)::int as count from unnest($1::text[]) as key group by key) as given
         where login_throttle.key = given.key`,
        [keys],
      );
    },

    async clear(keys: readonly string[]): Promise<void> {
      await db.query('delete from login_throttle where key = any($1::text[])', [keys]);
    },

    async prune(olderThanSeconds: number): Promise<number> {
      const { rowCount } = await db.query('delete from login_throttle where last_failure_at < now() - make_interval(secs => $1::float8)', [olderThanSeconds]);
      return rowCount;
    },
  };
}

export type ThrottleQueries = ReturnType<typeof createThrottleQueries>;
