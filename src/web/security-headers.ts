import type { Middleware } from 'koa';

/**
 * Headers every Ferry response carries. The CSP allows no inline script or style; pages load their
 * stylesheet and scripts from /static. `form-action` is left out on purpose: browsers apply it to
 * the redirect that follows a login form, which goes to the relying party's own origin.
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
    if (options.hsts && ctx.secure) ctx.set('strict-transport-security', 'max-age=31536000');
    await next();
    if (ctx.response.is('html') && !ctx.response.get('content-security-policy')) ctx.set('content-security-policy', csp);
  };
}
