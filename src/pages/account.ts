import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { FerryError } from '../errors.ts';
import type { Throttle } from '../security/throttle.ts';
import { readForm } from '../web/body.ts';
import type { Csrf } from '../web/csrf.ts';
import type { Views } from '../web/views.ts';

export interface AccountDeps {
  provider: () => Provider;
  /** validatePassword then updateUser for a custom user store; Ferry's own hash otherwise. */
  changePassword(sub: string, current: string, next: string): Promise<void>;
  throttle: Throttle;
  views: Views;
  csrf: Csrf;
}

/**
 * Self-service pages for whoever is signed in to Ferry (its session cookie): changing the password.
 * Wrong current passwords count against the account's brute-force throttle like failed sign-ins.
 */
export function createAccountRoutes(deps: AccountDeps): Router {
  const router = new Router({ prefix: '/account' });

  const page = async (ctx: Context, data: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = await deps.views.render('account-password', {
      title: 'Change your password',
      csrf: deps.csrf.token(ctx),
      error: undefined,
      done: false,
      signedIn: true,
      ...data,
    });
  };

  const subject = async (ctx: Context): Promise<string | undefined> => (await deps.provider().Session.get(ctx)).accountId;

  router.get('/password', async (ctx) => {
    const sub = await subject(ctx);
    return page(ctx, { signedIn: Boolean(sub) }, sub ? 200 : 401);
  });

  router.post('/password', async (ctx) => {
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, form.csrf);
    const sub = await subject(ctx);
    if (!sub) return page(ctx, { signedIn: false }, 401);
    if ((form.password ?? '') !== (form.password_confirm ?? '')) return page(ctx, { error: 'The two new passwords do not match.' }, 400);
    // The same count as the account's sign-ins: a wrong current password here is one more guess.
    const reservation = await deps.throttle.reserve(deps.throttle.keys({ sub }, ctx.ip));
    if (!reservation.allowed) {
      ctx.set('retry-after', String(reservation.retryAfterSeconds));
      return page(ctx, { error: 'Too many unsuccessful attempts. Please wait and try again.' }, 429);
    }
    try {
      await deps.changePassword(sub, form.current_password ?? '', form.password ?? '');
    } catch (error) {
      if (error instanceof FerryError && error.code === 'wrong_password') await deps.throttle.failed(reservation);
      else await deps.throttle.release(reservation);
      if (!(error instanceof FerryError) || !error.expose) throw error;
      return page(ctx, { error: error.message }, error.status);
    }
    await deps.throttle.succeeded(reservation);
    return page(ctx, { done: true });
  });

  return router;
}
