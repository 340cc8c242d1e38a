import { timingSafeEqual, createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Metrics } from './metrics.ts';

/** GET /metrics in Prometheus text format; `refresh` updates the gauges sampled at scrape time. */
export function createMetricsRoutes(metrics: Metrics, options: { token?: string | undefined; refresh(): Promise<void> | void }): Router {
  const router = new Router();
  const expected = options.token ? createHash('sha256').update(options.token).digest() : undefined;
  router.get('/metrics', async (ctx) => {
    if (expected) {
      const given = createHash('sha256').update(/^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '').digest();
      if (!timingSafeEqual(given, expected)) {
        ctx.status = 401;
        ctx.set('www-authenticate', 'Bearer');
        ctx.body = { error: 'unauthorized', message: 'A valid bearer token is required.' };
        return;
      }
    }
    await options.refresh();
    ctx.set('cache-control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
