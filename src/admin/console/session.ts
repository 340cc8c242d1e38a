import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { AdminAccess } from '../access.ts';
import type { Admin } from '../roles.ts';

const COOKIE = 'ferry.console';
const LIFETIME_MS = 8 * 60 * 60 * 1000;

/**
 * The console's sign-in: a cookie holding an expiry, the admin's key id and an HMAC of both keyed
 * by the SHA-256 of that admin's key (or of the admin token), so it needs no server-side store and
 * stops working when the key is revoked or the token changes: the key is looked up on every page.
 * The cookie is also signed with Ferry's cookie keys, HttpOnly, SameSite=Strict and scoped to /console.
 */
export function createConsoleSession(access: AdminAccess) {
  const mac = (secret: string, id: string, expires: number) =>
    createHmac('sha256', Buffer.from(secret, 'hex')).update(`ferry-console:${id}:${expires}`).digest('base64url');
  const options = (ctx: Context) => ({ httpOnly: true, sameSite: 'strict' as const, secure: ctx.secure, path: '/console', signed: true, overwrite: true });

  return {
    /** Signs the browser in when `given` is the admin token or an admin key; false otherwise. */
    async signIn(ctx: Context, given: string): Promise<boolean> {
      const admin = await access.identify(given);
      const known = admin && (await access.byId(admin.id));
      if (!known) return false;
      const expires = Date.now() + LIFETIME_MS;
      ctx.cookies.set(COOKIE, `${expires}.${admin.id}.${mac(known.secret, admin.id, expires)}`, { ...options(ctx), maxAge: LIFETIME_MS });
      return true;
    },

    /** The signed-in admin, or undefined. */
    async signedIn(ctx: Context): Promise<Admin | undefined> {
      const value = ctx.cookies.get(COOKIE, { signed: true });
      if (!value) return undefined;
      const [expiresText, id, given] = value.split('.');
      const expires = Number(expiresText);
      if (!id || !given || !Number.isSafeInteger(expires) || expires < Date.now()) return undefined;
      const known = await access.byId(id);
      if (!known) return undefined;
      const expected = Buffer.from(mac(known.secret, id, expires));
      const actual = Buffer.from(given);
      return expected.length === actual.length && timingSafeEqual(expected, actual) ? known.admin : undefined;
    },

    signOut(ctx: Context): void {
      ctx.cookies.set(COOKIE, null, options(ctx));
    },
  };
}

export type ConsoleSession = ReturnType<typeof createConsoleSession>;
