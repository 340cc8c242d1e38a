import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { normaliseEmail } from '../accounts/identifier.ts';
import { accountExists } from '../accounts/library.ts';
import { emailUnverified, type EmailVerification } from '../accounts/verification.ts';
import { FerryError, NotFound } from '../errors.ts';
import { readForm } from '../web/body.ts';
import type { Csrf } from '../web/csrf.ts';
import type { Views } from '../web/views.ts';

export interface VerificationDeps {
  provider: () => Provider;
  verification: EmailVerification;
  /** Mail leaves Ferry (SMTP is configured): registration answers every address alike. */
  mailEnabled: boolean;
  /** Links are made at all: with SMTP, or held in the demo's outbox. */
  available: boolean;
  /** `registration.requireVerifiedEmail`: an unverified address holds a sign-in back. */
  required: boolean;
  views: Views;
  csrf: Csrf;
}

/** Signed (with the provider's cookie keys): which account a held-back sign-in was, for its resend button. */
const HELD_COOKIE = 'ferry.verify';
const UID = /^[A-Za-z0-9_-]{1,64}$/;
const TAKEN_EMAIL = accountExists('email').message;

/**
 * Email verification on the hosted pages: the page the mailed link opens (`/account/verify`,
 * which asks for a click so that a mail scanner fetching the link does not use it), the account
 * page's "send me a link" (`/account/email`), the page that holds back a sign-in with an
 * unverified address, and registration's "check your email".
 */
export function createVerificationPages(deps: VerificationDeps) {
  const router = new Router();
  const { views, csrf, verification } = deps;

  const page = async (ctx: Context, name: string, data: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = await views.render(name, { csrf: csrf.token(ctx), error: undefined, ...data });
  };
  const uidOf = (ctx: Context): string => {
    const uid = String(ctx.params.uid);
    if (!UID.test(uid)) throw new NotFound('There is no such page.');
    return uid;
  };
  const signedInSub = async (ctx: Context) => (await deps.provider().Session.get(ctx)).accountId;
  const send = async (sub: string) => (deps.available ? verification.send(sub) : 'unavailable');

  router.get('/account/verify', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const valid = token !== '' && (await verification.check(token));
    return page(ctx, 'verify-email', { title: 'Confirm your email address', state: valid ? 'confirm' : 'invalid', token }, valid ? 200 : 400);
  });

  router.post('/account/verify', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const result = await verification.verify(form.token ?? '');
    const state = result === 'verified' ? 'done' : result;
    return page(ctx, 'verify-email', { title: 'Confirm your email address', state }, result === 'invalid' ? 400 : result === 'taken' ? 409 : 200);
  });

  router.get('/account/email', async (ctx) => {
    const sub = await signedInSub(ctx);
    const account = sub ? await verification.account(sub) : undefined;
    return page(
      ctx,
      'account-email',
      { title: 'Your email address', signedIn: Boolean(sub), account, unverified: account ? emailUnverified(account) : false, sent: undefined },
      sub ? 200 : 401,
    );
  });

  router.post('/account/email/verify', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const sub = await signedInSub(ctx);
    if (!sub) return page(ctx, 'account-email', { title: 'Your email address', signedIn: false }, 401);
    const sent = await send(sub);
    const account = await verification.account(sub);
    return page(
      ctx,
      'account-email',
      { title: 'Your email address', signedIn: true, account, unverified: account ? emailUnverified(account) : false, sent },
      sent === 'throttled' ? 429 : 200,
    );
  });

  /** The held-back sign-in's "send a new link": the account comes from the signed cookie, never from the form. */
  router.post('/interaction/:uid/verify-email', async (ctx) => {
    const uid = uidOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const sub = ctx.cookies.get(HELD_COOKIE, { signed: true });
    if (!sub) throw new FerryError('This page has expired. Go back to the application and sign in again.', { status: 400, code: 'interaction_expired' });
    const sent = await send(sub);
    return page(ctx, 'check-email', { title: 'Confirm your email address', uid, state: 'held', sent }, sent === 'throttled' ? 429 : 200);
  });

  /**
   * With `requireVerifiedEmail`, answers a sign-in of an account whose address is unverified with
   * the "confirm your email address" page instead of letting it finish; true when it did.
   */
  const holdSignIn = async (ctx: Context, sub: string): Promise<boolean> => {
    if (!deps.required) return false;
    const account = await verification.account(sub);
    if (!account || !emailUnverified(account)) return false;
    ctx.cookies.set(HELD_COOKIE, sub, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/interaction',
      maxAge: 3_600_000,
      overwrite: true,
    });
    await page(ctx, 'check-email', { title: 'Confirm your email address', uid: uidOf(ctx), state: 'held', sent: undefined }, 403);
    return true;
  };

  return {
    routes: () => router.routes(),

    holdSignIn,
    prune: () => verification.prune(),

    /**
     * Registration with a verification mail. With mail on and an email address given, every
     * address gets the same "check your email" page: a new one a verification link, one that has
     * an account a mail saying so (no second account). Otherwise the answer is today's, and the
     * new account is signed in unless its address must be verified first. Resolves to the subject
     * to sign in, or undefined when the page has answered.
     */
    async register(ctx: Context, register: () => Promise<{ sub: string }>, email: string): Promise<string | undefined> {
      const address = normaliseEmail(email);
      const alike = deps.mailEnabled && address !== undefined;
      let sub: string;
      try {
        ({ sub } = await register());
      } catch (error) {
        if (!alike || address === undefined || !(error instanceof FerryError) || error.code !== 'account_exists' || error.message !== TAKEN_EMAIL) throw error;
        await verification.tellAlreadyRegistered(address);
        await page(ctx, 'check-email', { title: 'Check your email', uid: uidOf(ctx), state: 'registered', email: address });
        return undefined;
      }
      await send(sub);
      if (alike) {
        await page(ctx, 'check-email', { title: 'Check your email', uid: uidOf(ctx), state: 'registered', email: address });
        return undefined;
      }
      if (await holdSignIn(ctx, sub)) return undefined;
      return sub;
    },
  };
}

export type VerificationPages = ReturnType<typeof createVerificationPages>;
