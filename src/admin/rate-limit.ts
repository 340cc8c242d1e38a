import type { Middleware } from 'koa';
import { TooManyRequests } from '../errors.ts';
import type { RateBucketQueries } from '../store/queries/rate-buckets.ts';

export interface RateLimitOptions {
  /** Requests a client may make per second, on average. */
  perSecond: number;
  /** Requests a client may make at once after a quiet spell. */
  burst: number;
}

/**
 * A token bucket per client, kept in the store so that every instance draws from the same one:
 * `take` answers how many seconds to wait, 0 when the request may go ahead.
 */
export function createRateLimiter(queries: RateBucketQueries, options: RateLimitOptions) {
  return {
    take: (client: string): Promise<number> => queries.take(`admin:${client}`, options.perSecond, options.burst),
    /** Forgets buckets idle long enough to be full again. */
    prune: () => queries.prune(Math.ceil(options.burst / options.perSecond)),
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** Answers 429 with retry-after when the client's bucket is empty. */
export function rateLimit(limiter: RateLimiter): Middleware {
  return async (ctx, next) => {
    const wait = await limiter.take(ctx.ip);
    if (wait > 0) throw new TooManyRequests('Too many requests to the admin API: slow down and retry.', wait);
    await next();
  };
}
