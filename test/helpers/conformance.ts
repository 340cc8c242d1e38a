import assert from 'node:assert/strict';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import type { Browser, Page } from './browser.ts';
import { TEST_CLIENT, freePort, startFerry, type TestFerry } from './ferry.ts';
import { beginAuthorization, completeLogin, type AuthorizeOptions } from './relying-party.ts';

/** Checks and requests the OIDC conformance tests share (test/oidc/conformance.test.ts). */

export const PUBLIC_CLIENT_ID = 'public-app';
/** A second confidential client, which authenticates with client_secret_post and is let off PKCE (`pkce_optional`), as a legacy client. */
export const POST_CLIENT = { client_id: 'post-app', client_secret: 'post-app-secret-that-is-long-enough' };

/** Matches an openid-client error (token, userinfo or authorization response) carrying `code`. */
export function oauthError(code: string) {
  return (error: unknown) => {
    const { error: direct, cause } = error as { error?: string; cause?: { error?: string } | { parameters?: { error?: string } }[] };
    const actual = direct ?? (Array.isArray(cause) ? cause[0]?.parameters?.error : cause?.error);
    assert.equal(actual, code, `expected ${code}, got ${String(error)}`);
    return true;
  };
}

/** The parts of a compact JWS, decoded. */
export function decodeJwt(jwt: string) {
  const [header, payload, signature] = jwt.split('.');
  const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: json(header!), payload: json(payload!), signingInput: `${header}.${payload}`, signature: Buffer.from(signature!, 'base64url') };
}

/** Verifies an RS256/ES256 JWS against a JWKS with node:crypto alone. */
export function verifyJws(jwt: string, jwks: JsonWebKey[]): boolean {
  const { header, signingInput, signature } = decodeJwt(jwt);
  const jwk = jwks.find((key) => key.kid === header.kid);
  assert.ok(jwk, `the JWKS has the key ${String(header.kid)} the token names`);
  assert.equal(jwk.alg, header.alg, 'the key is published for the algorithm the token uses');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  if (header.alg === 'RS256') return verify('sha256', Buffer.from(signingInput), key, signature);
  if (header.alg === 'ES256') return verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature);
  throw new Error(`unexpected alg ${String(header.alg)}`);
}

/** Waits until a session that signed in at `authTime` is more than one second old. */
export async function outliveMaxAgeOne(authTime: number): Promise<void> {
  // oidc-provider compares whole seconds (`now - loginTs > max_age`): wait until now >= authTime + 2.
  const wait = (authTime + 2) * 1000 - Date.now() + 20;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Starts Ferry with the test client, a public client and POST_CLIENT (PKCE optional), on one redirect URI. */
export async function startWithPublicClient(overrides: Parameters<typeof startFerry>[0] = {}): Promise<TestFerry> {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/test-callback`;
  return startFerry(
    {
      clients: [
        { ...TEST_CLIENT, redirect_uris: [redirectUri] },
        {
          client_id: PUBLIC_CLIENT_ID,
          token_endpoint_auth_method: 'none',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
        {
          ...POST_CLIENT,
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          pkce_optional: true,
        },
      ],
      ...overrides,
    },
    { port, dataDir: mkdtempSync(join(tmpdir(), 'ferry-test-')) },
  );
}

/** An authorization request as a browser would send it, with any parameters; no redirect is followed. */
export async function rawAuthorize(config: oidc.Configuration, browser: Browser, params: Record<string, string>): Promise<Page> {
  const url = new URL(config.serverMetadata().authorization_endpoint!);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return browser.request(url.href);
}

/** The redirect back to the client when the authorization endpoint answers with an error. */
export function redirectedError(ferry: TestFerry, page: Page): URLSearchParams {
  assert.equal(page.status, 303, `expected a redirect, got ${page.status}: ${page.html.slice(0, 300)}`);
  const location = new URL(page.headers.get('location')!, page.url);
  assert.equal(`${location.origin}${location.pathname}`, ferry.redirectUri);
  assert.equal(location.searchParams.get('code'), null, 'no code issued');
  return location.searchParams;
}

/** An error page from Ferry itself: 400, HTML, and no redirect anywhere. */
export function assertErrorPageWithoutRedirect(page: Page, what: string) {
  assert.equal(page.status, 400, `${what}: status ${page.status}`);
  assert.equal(page.headers.get('location'), null, `${what}: no Location header`);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/, `${what}: an HTML error page`);
  assert.match(page.html, /Sign-in could not continue/, `${what}: Ferry's error page`);
}

/**
 * Authorizes with max_age=1, expects the login page (not an immediate redirect), signs in and
 * exchanges the code; returns the ID token's subject and auth_time.
 */
export async function maxAgeRound(ferry: TestFerry, config: oidc.Configuration, browser: Browser, identifier: string, password: string) {
  const options: AuthorizeOptions = { scope: 'openid', extra: { max_age: '1' } };
  const { page, checks } = await beginAuthorization(ferry, config, browser, options);
  assert.match(page.url, /\/interaction\//, `max_age=1 shows the login page, not ${page.url}`);
  assert.match(page.html, /action="[^"]*\/login"/, 'the page is the login form');
  const callback = await completeLogin(ferry, browser, page, identifier, password);
  const claims = (await oidc.authorizationCodeGrant(config, new URL(callback.url), checks)).claims()!;
  assert.equal(typeof claims.auth_time, 'number', 'auth_time is in the ID token when max_age is sent');
  return { sub: claims.sub, auth_time: claims.auth_time! };
}

/** Without max_age the same browser's session goes straight back to the client: the session is alive. */
export async function assertSessionStillSignsIn(ferry: TestFerry, config: oidc.Configuration, browser: Browser) {
  const { page } = await beginAuthorization(ferry, config, browser, { scope: 'openid' });
  assert.ok(page.url.startsWith(ferry.redirectUri), `the session signs in without a page: ${page.url}`);
  assert.ok(new URL(page.url).searchParams.get('code'), 'a code is issued');
}
