import type { Middleware } from 'koa';

/**
 * Pins the origin every URL is built from to the configured issuer. oidc-provider builds the
 * endpoints in discovery and its redirects from `ctx.href`, which Koa takes from the Host header
 * (X-Forwarded-Host behind a trusted proxy, or an absolute request target): `Host: evil.example`
 * would otherwise publish http://evil.example/token. The protocol, and with it `ctx.secure` and
 * the cookies' Secure flag, still follows the connection (X-Forwarded-Proto behind a trusted proxy).
 */
export function pinOriginToIssuer(issuer: string): Middleware {
  const { origin, host, hostname } = new URL(issuer);
  return (ctx, next) => {
    const target = /^https?:\/\//i.test(ctx.originalUrl) ? ((url) => url.pathname + url.search)(new URL(ctx.originalUrl)) : ctx.originalUrl;
    Object.defineProperties(ctx.request, {
      origin: { value: origin },
      host: { value: host },
      hostname: { value: hostname },
      href: { value: origin + target },
    });
    return next();
  };
}
