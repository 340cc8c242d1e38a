import { nameActor } from '../../audit/index.ts';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { Forbidden, NotFound } from '../../errors.ts';
import { readForm } from '../../web/body.ts';
import type { Csrf } from '../../web/csrf.ts';
import type { Views } from '../../web/views.ts';
import type { AdminAccess } from '../access.ts';
import type { AdminLibrary } from '../library/index.ts';
import { rateLimit, type RateLimiter } from '../rate-limit.ts';
import { refusal, rolesFor } from '../roles.ts';
import { createPageRenderer } from './page.ts';
import { adminKeyPages } from './pages/admin-keys.ts';
import { clientPages } from './pages/clients.ts';
import { connectionPages } from './pages/connection.ts';
import { logPages } from './pages/logs.ts';
import { auditPages } from './pages/audit.ts';
import { migrationPages } from './pages/migration.ts';
import { outboxPages } from './pages/outbox.ts';
import { scriptPages } from './pages/scripts.ts';
import { userSessionPages } from './pages/user-sessions.ts';
import { userPages } from './pages/users.ts';
import { createConsoleSession } from './session.ts';

const PREFIX = '/console';

/**
 * The console: server-rendered pages under /console over the same library as the admin API.
 * Signing in takes the admin token or an admin key, whose role decides which pages and forms it
 * gets; every form carries a CSRF token.
 */
export function createConsole(deps: { library: AdminLibrary; access: AdminAccess; limiter: RateLimiter; views: Views; csrf: Csrf }): {
  middleware: Middleware;
} {
  const { csrf } = deps;
  const session = createConsoleSession(deps.access);
  const render = createPageRenderer({ views: deps.views, csrf });
  const page = { library: deps.library, csrf, render };

  const signIn = new Router({ prefix: PREFIX });
  signIn.get('/login', async (ctx) => {
    if (await session.signedIn(ctx)) return ctx.redirect(`${PREFIX}/connection`);
    await render(ctx, 'sign-in', { title: 'Sign in to the console', section: 'sign-in' });
  });
  signIn.post('/login', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    if (await session.signIn(ctx, form.token ?? '')) return ctx.redirect(`${PREFIX}/connection`);
    await render(ctx, 'sign-in', { title: 'Sign in to the console', section: 'sign-in', error: 'That is neither the admin token nor an admin key.' }, 401);
  });
  signIn.post('/logout', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    session.signOut(ctx);
    ctx.redirect(`${PREFIX}/login`);
  });

  const pages = new Router({ prefix: PREFIX });
  pages.get('/', (ctx) => ctx.redirect(`${PREFIX}/connection`));
  for (const add of [connectionPages, scriptPages, logPages, userPages, userSessionPages, clientPages, migrationPages, outboxPages, adminKeyPages, auditPages])
    add(pages, page);

  const limited = rateLimit(deps.limiter);
  const open = signIn.routes() as unknown as Middleware;
  const guarded = pages.routes() as unknown as Middleware;
  const middleware: Middleware = async (ctx, next) => {
    if (ctx.path !== PREFIX && !ctx.path.startsWith(`${PREFIX}/`)) return next();
    await limited(ctx, async () => {
      if (!(await deps.access.token())) {
        ctx.status = 404;
        return render(ctx, 'off', { title: 'The console is off', section: 'sign-in' }, 404);
      }
      await open(ctx, async () => {
        const admin = await session.signedIn(ctx);
        if (!admin) {
          ctx.status = 303;
          return ctx.redirect(`${PREFIX}/login`);
        }
        ctx.state.admin = admin;
        nameActor(`${admin.name} (console)`);
        // The area is the page's first path segment, as in the admin API's tags (src/admin/roles.ts).
        const allowed = rolesFor(ctx.path.slice(PREFIX.length + 1).split('/')[0] ?? '', ctx.method);
        if (!allowed.includes(admin.role)) throw new Forbidden(refusal(admin, allowed));
        await guarded(ctx, async () => {
          throw new NotFound('There is no such console page.');
        });
      });
    });
  };
  return { middleware };
}
