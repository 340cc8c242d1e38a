import Router from '@koa/router';
import type { Context } from 'koa';
import type { PasswordRecovery } from '../accounts/recovery.ts';
import { FerryError, NotFound } from '../errors.ts';
import { readForm } from '../web/body.ts';
import type { Csrf } from '../web/csrf.ts';
import type { Views } from '../web/views.ts';

export interface RecoveryDeps {
  recovery: PasswordRecovery;
  /** False in production without SMTP: the pages say reset is unavailable instead of pretending. */
  available: boolean;
  linkMinutes: number;
  /** Whether a reset signs the user out everywhere (the done page says so). */
  revokeSessions: boolean;
  minPasswordLength: number;
  views: Views;
  csrf: Csrf;
}

/** Holds the link's token between opening the link and sending the form, so it leaves the address bar. */
const RESET_COOKIE = 'ferry.reset';
const UID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * "Forgot password?": the request page next to the hosted login (`/interaction/:uid/forgot`) and
 * the page the mailed link opens (`/account/reset?token=…`). The link's token is moved into an
 * HttpOnly cookie and the browser sent to `/account/reset`, so it is not kept in the history.
 */
export function createRecoveryRoutes(deps: RecoveryDeps): Router {
  const router = new Router();
  const { views, csrf } = deps;

  const page = async (ctx: Context, name: string, data: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = await views.render(name, { csrf: csrf.token(ctx), available: deps.available, error: undefined, minLength: deps.minPasswordLength, ...data });
  };
  const uidOf = (ctx: Context): string => {
    const uid = String(ctx.params.uid);
    if (!UID.test(uid)) throw new NotFound('There is no such page.');
    return uid;
  };

  router.get('/interaction/:uid/forgot', (ctx) => page(ctx, 'forgot-password', { title: 'Reset your password', uid: uidOf(ctx), identifier: '', sent: false }));

  router.post('/interaction/:uid/forgot', async (ctx) => {
    const uid = uidOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const identifier = form.identifier ?? '';
    const retry = (error: string, status: number) =>
      page(ctx, 'forgot-password', { title: 'Reset your password', uid, identifier, sent: false, error }, status);
    if (!deps.available) return retry('Password reset is not available here. Ask the administrator of this site.', 503);
    const result = await deps.recovery.request(identifier, ctx.ip);
    if (!result.ok && result.reason === 'invalid_identifier') return retry('Enter your email address, phone number or username.', 400);
    if (!result.ok && result.reason === 'throttled') {
      ctx.set('retry-after', String(result.retryAfterSeconds));
      return retry('Too many reset requests. Please wait and try again.', 429);
    }
    return page(ctx, 'forgot-password', { title: 'Check your email', uid, identifier: '', sent: true, minutes: deps.linkMinutes });
  });

  router.get('/account/reset', async (ctx) => {
    const fromLink = typeof ctx.query.token === 'string' ? ctx.query.token : undefined;
    if (fromLink !== undefined) {
      if (!(await deps.recovery.check(fromLink))) return page(ctx, 'reset-password', { title: 'Choose a new password', state: 'invalid' }, 400);
      ctx.cookies.set(RESET_COOKIE, fromLink, {
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.secure,
        path: '/account/reset',
        maxAge: deps.linkMinutes * 60_000,
        overwrite: true,
      });
      ctx.status = 303;
      return ctx.redirect('/account/reset');
    }
    const token = ctx.cookies.get(RESET_COOKIE);
    const valid = token !== undefined && (await deps.recovery.check(token));
    return page(ctx, 'reset-password', { title: 'Choose a new password', state: valid ? 'form' : 'invalid' }, valid ? 200 : 400);
  });

  router.post('/account/reset', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const token = ctx.cookies.get(RESET_COOKIE);
    const retry = (error: string, status: number) => page(ctx, 'reset-password', { title: 'Choose a new password', state: 'form', error }, status);
    if (!token) return page(ctx, 'reset-password', { title: 'Choose a new password', state: 'invalid' }, 400);
    if ((form.password ?? '') !== (form.password_confirm ?? '')) return retry('The two passwords do not match.', 400);
    let result: Awaited<ReturnType<typeof deps.recovery.reset>>;
    try {
      result = await deps.recovery.reset(token, form.password ?? '');
    } catch (error) {
      if (error instanceof FerryError && error.expose) return retry(error.message, error.status);
      throw error;
    }
    ctx.cookies.set(RESET_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/account/reset', maxAge: 0, overwrite: true });
    if (!result.ok)
      return page(
        ctx,
        'reset-password',
        { title: 'Choose a new password', state: result.reason === 'conflict' ? 'conflict' : 'invalid' },
        result.reason === 'conflict' ? 409 : 400,
      );
    return page(ctx, 'reset-password', { title: 'Password changed', state: 'done', signedOut: deps.revokeSessions });
  });

  return router;
}
