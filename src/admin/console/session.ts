import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { AdminAccess } from '../access.ts';

const COOKIE = 'ferry.console';
const LIFETIME_MS = 8 * 60 * 60 * 1000;

/**
 * The console's sign-in: a cookie holding an expiry and an HMAC of it keyed by the admin token, so
 * it needs no server-side store and stops working when the token changes. The cookie is also
 * signed with Ferry's cookie keys, HttpOnly, SameSite=Strict and scoped to /console.
 */
export function createConsoleSession(access: AdminAccess) {
  const mac = (token: string, expires: number) =>
    createHmac('sha256', createHash('sha256').update(token).digest()).update(`ferry-console:${expires}`).digest('base64url');
  const options = (ctx: Context) => ({ httpOnly: true, sameSite: 'strict' as const, secure: ctx.secure, path: '/console', signed: true, overwrite: true });

  return {
    /** Signs the browser in when `given` is the admin token; false otherwise. */
    async signIn(ctx: Context, given: string): Promise<boolean> {
      const token = await access.token();
      if (!token || !(await access.accepts(given))) return false;
      const expires = Date.now() + LIFETIME_MS;
      ctx.cookies.set(COOKIE, `${expires}.${mac(token, expires)}`, { ...options(ctx), maxAge: LIFETIME_MS });
      return true;
    },

    async signedIn(ctx: Context): Promise<boolean> {
      const token = await access.token();
      const value = ctx.cookies.get(COOKIE, { signed: true });
      if (!token || !value) return false;
      const [expiresText, given] = value.split('.');
      const expires = Number(expiresText);
      if (!given || !Number.isSafeInteger(expires) || expires < Date.now()) return false;
      const expected = Buffer.from(mac(token, expires));
      const actual = Buffer.from(given);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },

    signOut(ctx: Context): void {
      ctx.cookies.set(COOKIE, null, options(ctx));
    },
  };
}

export type ConsoleSession = ReturnType<typeof createConsoleSession>;
