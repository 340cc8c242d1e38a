import { createHmac, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { Views } from '../web/views.ts';
import type { Csrf } from '../web/csrf.ts';
import { readForm } from '../web/body.ts';

export const DEMO_CLIENT_ID = 'ferry-demo';
const COOKIE = 'ferry.demo';
const MAX_SESSIONS = 1000;
const SESSION_MS = 60 * 60 * 1000;

interface DemoSession {
  created: number;
  pending?: { state: string; nonce: string; verifier: string };
  idToken?: string;
  idTokenClaims?: Record<string, unknown>;
  userinfo?: Record<string, unknown>;
  refreshToken?: string | undefined;
  accessTokenExpiresAt?: number | undefined;
  refreshed?: number;
  error?: string;
}

/** The demo relying party's client registration, with a secret derived from the cookie keys (stable across restarts). */
export function demoClient(issuer: string, secretSeed: string) {
  return {
    client_id: DEMO_CLIENT_ID,
    client_name: 'Ferry demo app',
    client_secret: createHmac('sha256', secretSeed).update('ferry-demo-client').digest('base64url'),
    redirect_uris: [`${issuer}/demo/callback`],
    post_logout_redirect_uris: [`${issuer}/demo`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code' as const],
  };
}

/**
 * A relying party on Ferry's own server, for trying Ferry out: it signs in through the hosted pages
 * with openid-client (code + PKCE), then shows the ID token claims and userinfo. Its sessions live in
 * memory: this is a demo, not something to build on.
 */
export function createDemoRoutes(deps: {
  issuer: string;
  /** Where this process itself answers (the issuer may be a public URL behind a proxy). */
  internalUrl: () => string;
  client: ReturnType<typeof demoClient>;
  views: Views;
  csrf: Csrf;
  /** More for the page: the legacy users to try and whether the signed-in user was migrated. */
  extras?: (sub: string | undefined) => Promise<Record<string, unknown>>;
}): Router {
  const router = new Router({ prefix: '/demo' });
  const sessions = new Map<string, DemoSession>();
  let configuration: Promise<oidc.Configuration> | undefined;

  const config = () =>
    (configuration ??= discover(deps).catch((error) => {
      configuration = undefined;
      throw error;
    }));

  const session = (ctx: Context, create: boolean): DemoSession | undefined => {
    const id = ctx.cookies.get(COOKIE);
    const found = id ? sessions.get(id) : undefined;
    if (found && Date.now() - found.created < SESSION_MS) return found;
    if (!create) return undefined;
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    const fresh: DemoSession = { created: Date.now() };
    const newId = randomBytes(24).toString('base64url');
    sessions.set(newId, fresh);
    ctx.cookies.set(COOKIE, newId, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
    return fresh;
  };

  router.get('/', async (ctx) => {
    const current = session(ctx, false);
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = await deps.views.render('demo', {
      title: 'Demo app',
      wide: true,
      issuer: deps.issuer,
      session: current,
      csrf: deps.csrf.token(ctx),
      json: (value: unknown) => JSON.stringify(value, null, 2),
      ...(deps.extras ? await deps.extras(current?.idTokenClaims?.sub as string | undefined) : {}),
    });
  });

  router.get('/login', async (ctx) => {
    const current = session(ctx, true)!;
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
    current.pending = pending;
    const url = oidc.buildAuthorizationUrl(await config(), {
      redirect_uri: deps.client.redirect_uris[0]!,
      scope: 'openid profile email phone address',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...(typeof ctx.query.prompt === 'string' ? { prompt: ctx.query.prompt } : {}),
    });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const current = session(ctx, false);
    if (!current?.pending) return ctx.redirect('/demo');
    const { pending } = current;
    delete current.pending;
    try {
      const callbackUrl = new URL(`${deps.client.redirect_uris[0]}?${ctx.querystring}`);
      const tokens = await oidc.authorizationCodeGrant(await config(), callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
      });
      const claims = tokens.claims()!;
      Object.assign(current, {
        idToken: tokens.id_token,
        idTokenClaims: { ...claims },
        userinfo: { ...(await oidc.fetchUserInfo(await config(), tokens.access_token, claims.sub)) },
        refreshToken: tokens.refresh_token,
        accessTokenExpiresAt: tokens.expires_in ? Date.now() + tokens.expires_in * 1000 : undefined,
        error: undefined,
      });
    } catch (error) {
      // An error the provider sent back (the user cancelled, consent denied) says what happened in
      // its error_description; openid-client's own message only says that it was an error.
      current.error = error instanceof oidc.AuthorizationResponseError ? (error.error_description ?? error.error) : (error as Error).message;
    }
    ctx.redirect('/demo');
  });

  router.post('/refresh', async (ctx) => {
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, form.csrf);
    const current = session(ctx, false);
    if (current?.refreshToken) {
      try {
        const tokens = await oidc.refreshTokenGrant(await config(), current.refreshToken);
        current.refreshToken = tokens.refresh_token ?? current.refreshToken;
        current.accessTokenExpiresAt = tokens.expires_in ? Date.now() + tokens.expires_in * 1000 : undefined;
        current.userinfo = { ...(await oidc.fetchUserInfo(await config(), tokens.access_token, String(current.idTokenClaims?.sub))) };
        current.refreshed = (current.refreshed ?? 0) + 1;
      } catch (error) {
        current.error = (error as Error).message;
      }
    }
    ctx.redirect('/demo');
  });

  router.get('/logout', async (ctx) => {
    const id = ctx.cookies.get(COOKIE);
    const current = id ? sessions.get(id) : undefined;
    if (id) sessions.delete(id);
    if (!current?.idToken) return ctx.redirect('/demo');
    ctx.redirect(
      oidc.buildEndSessionUrl(await config(), { id_token_hint: current.idToken, post_logout_redirect_uri: deps.client.post_logout_redirect_uris[0]! }).href,
    );
  });

  return router;
}

async function discover(deps: { issuer: string; internalUrl: () => string; client: ReturnType<typeof demoClient> }): Promise<oidc.Configuration> {
  const internal = deps.internalUrl();
  const toInternal = (url: string) => (url.startsWith(deps.issuer) ? internal + url.slice(deps.issuer.length) : url);
  const response = await fetch(`${internal}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery answered ${response.status}`);
  const metadata = (await response.json()) as oidc.ServerMetadata;
  const config = new oidc.Configuration(metadata, deps.client.client_id, {}, oidc.ClientSecretBasic(deps.client.client_secret));
  oidc.allowInsecureRequests(config);
  config[oidc.customFetch] = (url, options) => fetch(toInternal(url), options as RequestInit);
  return config;
}
