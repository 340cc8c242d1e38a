import Router from '@koa/router';
import type { Database } from '../store/db.ts';
import { withTimeout } from '../timeout.ts';

/**
 * `/healthz` (liveness): the process answers; nothing a restart would not break again is checked.
 * `/readyz` (readiness): its database answers within two seconds, and scripts can run. With
 * sandbox processes (the default) a lost or misbehaving process is replaced within a second, so
 * /readyz stays 200 through it; it is 503 only while replacements keep failing to start, or, with
 * `sandboxProcesses: 0`, after a catastrophic isolate error (which only a restart repairs).
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
        ctx.body = { status: 'degraded', database: db.kind, message: `scripts cannot run: ${broken}` };
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
