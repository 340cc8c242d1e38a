import { nameActor } from '../../audit/index.ts';
import Router, { type RouterMiddleware } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { FerryError, Forbidden, NotFound, Unauthorized } from '../../errors.ts';
import { readJson } from '../../web/body.ts';
import type { AdminAccess } from '../access.ts';
import type { AdminLibrary } from '../library/index.ts';
import { parseOrThrow } from '../library/validation.ts';
import { rateLimit, type RateLimiter } from '../rate-limit.ts';
import { refusal, type Admin } from '../roles.ts';
import { buildOpenApi } from './openapi.ts';
import { API_PREFIX, allowedRoles, defineRoute, type ApiRoute } from './route.ts';
import { apiRoutes } from './routes/index.ts';

export interface AdminApi {
  /** The middleware that answers everything under /api/v1. */
  middleware: Middleware;
  /** The koa router (its layers are what is served). */
  router: Router;
  /** The OpenAPI document served at /api/v1/openapi.json. */
  document: Record<string, unknown>;
}

/** The admin API under /api/v1: rate limit, then the bearer token, then the route's validated input. */
export function createAdminApi(deps: { library: AdminLibrary; access: AdminAccess; limiter: RateLimiter; version: string }): AdminApi {
  const routes = apiRoutes(deps.library);
  let document: Record<string, unknown> = {};
  const openapi = defineRoute({
    method: 'get',
    path: '/openapi.json',
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document (no token needed)',
    public: true,
    response: z.record(z.string(), z.unknown()),
    handle: async () => document,
  });
  const all = [...routes, openapi];
  document = buildOpenApi(all, { version: deps.version });

  /** Who is calling (also left in ctx.state.admin for what runs after); 401 for nobody. */
  const authenticate = async (ctx: Context): Promise<Admin> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
    const admin = await deps.access.identify(match?.[1]);
    if (!admin) {
      ctx.set('www-authenticate', 'Bearer realm="ferry-admin"');
      throw new Unauthorized('Send the admin token or an admin key as "Authorization: Bearer <key>".');
    }
    ctx.state.admin = admin;
    nameActor(admin.name);
    return admin;
  };

  const router = new Router({ prefix: API_PREFIX });
  for (const route of all) router[route.method](route.path, handler(route, authenticate));

  const limited = rateLimit(deps.limiter);
  const routed = router.routes() as unknown as Middleware;
  const middleware: Middleware = async (ctx, next) => {
    if (ctx.path !== API_PREFIX && !ctx.path.startsWith(`${API_PREFIX}/`)) return next();
    ctx.set('cache-control', 'no-store');
    await limited(ctx, async () => {
      if (!(await deps.access.token())) throw new NotFound('The admin API is off: set adminToken.', 'admin_api_disabled');
      await routed(ctx, async () => {
        await authenticate(ctx);
        const allowed = router.match(ctx.path, ctx.method).path.flatMap((layer) => layer.methods);
        if (allowed.length > 0) {
          ctx.set('allow', [...new Set(allowed)].join(', '));
          throw new FerryError(`${ctx.method} is not allowed here; use ${[...new Set(allowed)].join(', ')}.`, { status: 405, code: 'method_not_allowed' });
        }
        throw new NotFound(`There is no ${ctx.method} ${ctx.path} in the admin API; see ${API_PREFIX}/openapi.json.`, 'unknown_endpoint');
      });
    });
  };
  return { middleware, router, document };
}

function handler(route: ApiRoute, authenticate: (ctx: Context) => Promise<Admin>): RouterMiddleware {
  const roles = allowedRoles(route);
  return async (ctx) => {
    if (!route.public) {
      const admin = await authenticate(ctx);
      if (!roles.includes(admin.role)) throw new Forbidden(refusal(admin, roles));
    }
    const params = route.params ? parseOrThrow(route.params, ctx.params, 'The path is not valid.') : undefined;
    const query = route.query ? parseOrThrow(route.query, firstValues(ctx.query), 'The query is not valid.') : undefined;
    const body = route.body ? parseOrThrow(route.body, await readJson(ctx), 'The body is not valid.') : undefined;
    const result = await route.handle({ params, query, body, ctx: ctx as unknown as Context });
    ctx.status = route.status ?? (route.response || route.streamed ? 200 : 204);
    // Answers go through their schema too: what is documented is exactly what leaves.
    if (route.response) ctx.body = route.response.parse(result);
  };
}

function firstValues(query: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== '') out[key] = first;
  }
  return out;
}
