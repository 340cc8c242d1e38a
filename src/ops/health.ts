import Router from '@koa/router';
import type { Database } from '../store/db.ts';

/** `/healthz`: the process answers. `/readyz`: and its database answers within two seconds. */
export function createHealthRoutes(db: Database): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    try {
      await withTimeout(db.ping(), 2000);
      ctx.body = { status: 'ready', database: db.kind };
    } catch (error) {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', database: db.kind, message: (error as Error).message };
    }
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
