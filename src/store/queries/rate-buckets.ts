import type { Queryable } from '../db.ts';

/** SQL for token buckets. Times are the database's, so every instance agrees. */
export function createRateBucketQueries(db: Queryable) {
  return {
    /**
     * Refills `key`'s bucket for the time since its last request and takes one token if there is
     * one, in one statement (the row lock orders parallel requests). Answers the seconds to wait:
     * 0 when the token was taken.
     */
    async take(key: string, perSecond: number, burst: number): Promise<number> {
      // In DO UPDATE, rate_buckets.* is the row as it was: every SET sees the same refill.
      const refilled = 'least($3::float8, rate_buckets.tokens + extract(epoch from now() - rate_buckets.updated_at)::float8 * $2::float8)';
      const { rows } = await db.query<{ wait: number }>(
        `insert into rate_buckets (key, tokens, taken, updated_at) values ($1, $3::float8 - 1, true, now())
         on conflict (key) do update set
           tokens = case when ${refilled} >= 1 then ${refilled} - 1 else ${refilled} end,
           taken = ${refilled} >= 1,
           updated_at = now()
         returning case when taken then 0 else ceil((1 - tokens) / $2::float8)::int end as wait`,
        [key, perSecond, burst],
      );
      return rows[0]!.wait;
    },

    async prune(olderThanSeconds: number): Promise<number> {
      const { rowCount } = await db.query('delete from rate_buckets where updated_at < now() - make_interval(secs => $1::float8)', [olderThanSeconds]);
      return rowCount;
    },
  };
}

export type RateBucketQueries = ReturnType<typeof createRateBucketQueries>;
