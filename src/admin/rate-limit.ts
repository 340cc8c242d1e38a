import type { Middleware } from 'koa';
import { TooManyRequests } from '../errors.ts';

export interface RateLimitOptions {
  /** Requests a client may make per second, on average. */
  perSecond: number;
  /** Requests a client may make at once after a quiet spell. */
  burst: number;
  /** Clients remembered at most; the longest-idle are forgotten first. */
  maxClients?: number;
}

/** A token bucket per client: `take` answers how long to wait, 0 when the request may go ahead. */
export function createRateLimiter(options: RateLimitOptions) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const maxClients = options.maxClients ?? 10_000;
  return {
    take(client: string, now = performance.now()): number {
      const bucket = buckets.get(client) ?? { tokens: options.burst, at: now };
      buckets.delete(client); // re-inserted last: the map's order is least recently seen first
      bucket.tokens = Math.min(options.burst, bucket.tokens + ((now - bucket.at) / 1000) * options.perSecond);
      bucket.at = now;
      buckets.set(client, bucket);
      if (buckets.size > maxClients) buckets.delete(buckets.keys().next().value!);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - bucket.tokens) / options.perSecond);
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** Answers 429 with retry-after when the client's bucket is empty. */
export function rateLimit(limiter: RateLimiter): Middleware {
  return async (ctx, next) => {
    const wait = limiter.take(ctx.ip);
    if (wait > 0) throw new TooManyRequests('Too many requests to the admin API: slow down and retry.', wait);
    await next();
  };
}
