import type { Queryable } from '../db.ts';

export interface ThrottleRow {
  key: string;
  failures: number;
  /** Seconds since the last failure. */
  idle_seconds: number;
  /** Seconds until the key may try again (0 or less: it may). */
  blocked_seconds: number | null;
}

/** One attempt taken: the count it makes, and the block it set (epoch seconds, exact), if any. */
export interface Reserved {
  failures: number;
  block: string | null;
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
     * On a key that has been blocked before (its failures went past `delay.freeFailures`), an
     * attempt whose failure would bring a delay blocks the key in the same statement, for as long
     * as that failure would: while its password is checked, a burst behind it is refused (after a
     * block ends, one attempt is checked, not every one in flight). Returns the count including
     * this attempt and the block it set (to lift when it is handed back), or undefined when refused.
     */
    async reserve(
      key: string,
      maxFailures: number,
      resetSeconds: number,
      delay: { freeFailures: number; baseDelayMs: number; maxDelayMs: number },
    ): Promise<Reserved | undefined> {
      const stale = 'login_throttle.last_failure_at < now() - make_interval(secs => $3::float8)';
      const count = 'login_throttle.failures + 1';
      const { rows } = await db.query<{ failures: number; block: string | null }>(
        `insert into login_throttle (key, failures, last_failure_at) values ($1, 1, now())
         on conflict (key) do update set
           failures = case when ${stale} then 1 else ${count} end,
           blocked_until = case
             when ${stale} then null
             when login_throttle.blocked_until is not null and ${count} > $4::int and $5::float8 > 0
               then now() + make_interval(secs => least($5::float8 * power(2, ${count} - $4::int - 1), $6::float8) / 1000)
             else login_throttle.blocked_until end,
           last_failure_at = case when ${stale} then now() else login_throttle.last_failure_at end
         where ${stale} or (login_throttle.failures < $2 and (login_throttle.blocked_until is null or login_throttle.blocked_until <= now()))
         returning failures, case when blocked_until > now() then extract(epoch from blocked_until)::text end as block`,
        [key, maxFailures, resetSeconds, delay.freeFailures, delay.baseDelayMs, delay.maxDelayMs],
      );
      return rows[0] && { failures: rows[0].failures, block: rows[0].block };
    },

    /**
     * reserve() for several distinct keys in one statement, each with its own policy: the keys it
     * returns were taken, the others refused (nothing changed on them).
     */
    async reserveAll(
      entries: readonly { key: string; maxFailures: number; resetSeconds: number; delay: { freeFailures: number; baseDelayMs: number; maxDelayMs: number } }[],
    ): Promise<Map<string, Reserved>> {
      const policy = (column: string) => `(select ${column} from wanted where wanted.key = t.key)`;
      const stale = `t.last_failure_at < now() - make_interval(secs => ${policy('reset_seconds')})`;
      const count = 't.failures + 1';
      const { rows } = await db.query<{ key: string; failures: number; block: string | null }>(
        `with wanted (key, max_failures, reset_seconds, free_failures, base_delay_ms, max_delay_ms) as (
           select * from unnest($1::text[], $2::int[], $3::float8[], $4::int[], $5::float8[], $6::float8[]))
         insert into login_throttle as t (key, failures, last_failure_at) select key, 1, now() from wanted
         on conflict (key) do update set
           failures = case when ${stale} then 1 else ${count} end,
           blocked_until = case
             when ${stale} then null
             when t.blocked_until is not null and ${count} > ${policy('free_failures')} and ${policy('base_delay_ms')} > 0
               then now() + make_interval(secs => least(${policy('base_delay_ms')} * power(2, ${count} - ${policy('free_failures')} - 1), ${policy('max_delay_ms')}) / 1000)
             else t.blocked_until end,
           last_failure_at = case when ${stale} then now() else t.last_failure_at end
         where ${stale} or (t.failures < ${policy('max_failures')} and (t.blocked_until is null or t.blocked_until <= now()))
         returning key, failures, case when blocked_until > now() then extract(epoch from blocked_until)::text end as block`,
        [
          entries.map((entry) => entry.key),
          entries.map((entry) => entry.maxFailures),
          entries.map((entry) => entry.resetSeconds),
          entries.map((entry) => entry.delay.freeFailures),
          entries.map((entry) => entry.delay.baseDelayMs),
          entries.map((entry) => entry.delay.maxDelayMs),
        ],
      );
      return new Map(rows.map((row) => [row.key, { failures: row.failures, block: row.block }]));
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
     * Hands reserved attempts back (the check gave no verdict on the password, or succeeded), and
     * lifts the block each of them set, if it is still the key's block. A key named twice (the IP
     * of a registration, once per identifier looked up) gives back twice.
     */
    async giveBack(entries: readonly { key: string; block: string | null }[]): Promise<void> {
      await this.settle([], entries);
    },

    /**
     * A successful check in one statement: the `cleared` keys' runs of failures end, `given`
     * attempts are handed back as giveBack does, and the sign-in of `signedIn` (a subject) is
     * counted in user_activity — folded in here so that a sign-in pays no round trip for it.
     */
    async settle(cleared: readonly string[], given: readonly { key: string; block: string | null }[], signedIn?: string): Promise<void> {
      await db.query(
        `with cleared as (delete from login_throttle where key = any($3::text[])),
         signed_in as (insert into user_activity (sub, sign_in_count, last_sign_in_at) select $4::text, 1, now() where $4::text is not null
           on conflict (sub) do update set sign_in_count = user_activity.sign_in_count + 1, last_sign_in_at = now())
         update login_throttle set failures = greatest(failures - given.count, 0),
           blocked_until = case when given.block is not null and extract(epoch from blocked_until) = given.block then now() else blocked_until end
         from (select key, count(*)::int as count, max(block) as block from unnest($1::text[], $2::numeric[]) as entry(key, block) group by key) as given
         where login_throttle.key = given.key`,
        [given.map((entry) => entry.key), given.map((entry) => entry.block), cleared, signedIn ?? null],
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
