import type { Middleware } from 'koa';

/**
 * Headers every Ferry response carries. The CSP allows no inline script or style; pages load their
 * stylesheet and scripts from /static. `form-action` is left out on purpose: browsers apply it to
 * the redirect that follows a login form, which goes to the relying party's own origin.
 *
 * The CSP is set before the rest of the request runs, not after: oidc-provider's auto-submit
 * pages (response_mode=form_post, /session/end without a session, a logout resumed from an
 * interaction) add the SHA-256 of their one inline script to `script-src` only when they find a
 * CSP already on the response (lib/helpers/script_src_sha.js). That hash allows exactly that
 * script and nothing else.
 */
export function securityHeaders(options: { hsts: boolean }): Middleware {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return async (ctx, next) => {
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('x-frame-options', 'DENY');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('cross-origin-opener-policy', 'same-origin');
    ctx.set('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    ctx.set('content-security-policy', csp);
    if (options.hsts && ctx.secure) ctx.set('strict-transport-security', 'max-age=31536000');
    await next();
  };
}
