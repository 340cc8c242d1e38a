import Router from '@koa/router';
import { tokensMatch } from '../security/tokens.ts';
import type { Metrics } from './metrics.ts';

/** GET /metrics in Prometheus text format; `refresh` updates the gauges sampled at scrape time. */
export function createMetricsRoutes(metrics: Metrics, options: { token?: string | undefined; refresh(): Promise<void> | void }): Router {
  const router = new Router();
  const expected = options.token;
  router.get('/metrics', async (ctx) => {
    if (expected) {
      if (!tokensMatch(/^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '', expected)) {
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
