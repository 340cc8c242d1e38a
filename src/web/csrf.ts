import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { Forbidden } from '../errors.ts';

const COOKIE = 'ferry.csrf';

/**
 * Signed double-submit CSRF protection for Ferry's own forms: a random value in an HttpOnly,
 * SameSite cookie, and in each form an HMAC of it that only this server can compute.
 */
export function createCsrf(secret: string) {
  const sign = (value: string) => createHmac('sha256', secret).update(value).digest('base64url');

  return {
    /** The token to put in a form, setting the cookie when the browser has none. */
    token(ctx: Context): string {
      let value = ctx.cookies.get(COOKIE);
      if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
        value = randomBytes(32).toString('base64url');
        ctx.cookies.set(COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
      }
      return sign(value);
    },

    /** Throws Forbidden unless `token` was made for this browser's cookie. */
    verify(ctx: Context, token: unknown): void {
      const value = ctx.cookies.get(COOKIE);
      if (!value || typeof token !== 'string') throw expired();
      const expected = Buffer.from(sign(value));
      const given = Buffer.from(token);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw expired();
    },
  };
}

function expired(): Forbidden {
  return new Forbidden('This form has expired or was not sent from this site. Go back, reload the page and try again.', 'csrf');
}

export type Csrf = ReturnType<typeof createCsrf>;
