import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Middleware } from 'koa';
import { actingAs } from '../audit/index.ts';
import type { Queries } from '../store/queries/index.ts';
import type { Csrf } from '../web/csrf.ts';
import type { Views } from '../web/views.ts';
import { createAdminAccess } from './access.ts';
import { API_PREFIX } from './api/route.ts';
import { createAdminApi } from './api/router.ts';
import { createConsole } from './console/index.ts';
import { createAdminLibrary, type AdminLibraryDeps } from './library/index.ts';
import { createRateLimiter } from './rate-limit.ts';

export { resolveAdminToken } from './access.ts';

/** A client may send 20 requests a second on average, 60 at once. */
const RATE = { perSecond: 20, burst: 60 };

/**
 * Ferry's administration: the admin API under /api/v1 and the console under /console, over one
 * library of operations and one admin token. Created once; its middleware is mounted on every
 * provider that `build()` makes.
 */
export function createAdmin(
  deps: AdminLibraryDeps & {
    queries: AdminLibraryDeps['queries'] & Pick<Queries, 'rateBuckets'>;
    views: Views;
    csrf: Csrf;
    reloadKeys: () => Promise<unknown>;
  },
) {
  const library = createAdminLibrary(deps);
  const access = createAdminAccess(deps);
  const limiter = createRateLimiter(deps.queries.rateBuckets, RATE);
  const api = createAdminApi({ library, access, limiter, version: packageVersion() });
  const console = createConsole({ library, access, limiter, views: deps.views, csrf: deps.csrf });
  const routed: Middleware = (ctx, next) => api.middleware(ctx, () => console.middleware(ctx, next));
  // The audit log's `actor` for admin changes: the door the request came through.
  const middleware: Middleware = (ctx, next) => {
    const door = ctx.path.startsWith(API_PREFIX) ? 'adminToken' : ctx.path.startsWith('/console') ? 'console' : undefined;
    return door ? actingAs(door, () => routed(ctx, next)) : routed(ctx, next);
  };
  return { library, access, api, middleware, limiter };
}

export type Admin = ReturnType<typeof createAdmin>;

function packageVersion(): string {
  const file = join(import.meta.dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
