import Router from '@koa/router';
import type { Database } from '../store/db.ts';
import { withTimeout } from '../timeout.ts';

/**
 * `/healthz`: the process answers. `/readyz`: its database answers within two seconds, and its
 * script sandbox still works (after a catastrophic isolate error only a restart brings it back, so
 * an orchestrator should replace this instance; local and migrated users still sign in meanwhile).
 */
export function createHealthRoutes(db: Database, sandboxBroken: () => string | undefined = () => undefined): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    try {
      await withTimeout(db.ping(), 2000, 'no answer within 2000 ms');
      const broken = sandboxBroken();
      if (broken) {
        ctx.status = 503;
        ctx.body = { status: 'degraded', database: db.kind, message: `script execution is disabled until Ferry restarts: ${broken}` };
        return;
      }
      ctx.body = { status: 'ready', database: db.kind };
    } catch (error) {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', database: db.kind, message: (error as Error).message };
    }
  });
  return router;
}
