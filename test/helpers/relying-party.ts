import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { Browser, Page } from './browser.ts';
import { after, before } from 'node:test';
import type { ConfigInput } from '../../src/config/schema.ts';
import { removeDataDir, startFerry, TEST_CLIENT, type TestFerry } from './ferry.ts';

/** An openid-client relying party for the test client, discovered from the running server. */
export async function relyingParty(ferry: TestFerry, client: { client_id: string; client_secret?: string } = TEST_CLIENT) {
  const config = await oidc.discovery(
    new URL(ferry.issuer),
    client.client_id,
    client.client_secret ? { client_secret: client.client_secret } : {},
    client.client_secret ? oidc.ClientSecretBasic(client.client_secret) : oidc.None(),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  return config;
}

export interface AuthorizeOptions {
  scope?: string;
  prompt?: string;
  extra?: Record<string, string>;
}

/** Starts an authorization request in `browser`; returns the first page and the checks to finish it. */
export async function beginAuthorization(ferry: TestFerry, config: oidc.Configuration, browser: Browser, options: AuthorizeOptions = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: ferry.redirectUri,
    scope: options.scope ?? 'openid profile email phone address',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(options.prompt ? { prompt: options.prompt } : {}),
    ...options.extra,
  });
  const page = await browser.get(url.href, ferry.redirectUri);
  return { page, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
}

/**
 * Signs in through the hosted login form (and consent page, if shown) and exchanges the code:
 * the whole authorization code + PKCE flow, as a relying party and a browser would run it.
 */
export async function signIn(
  ferry: TestFerry,
  config: oidc.Configuration,
  browser: Browser,
  identifier: string,
  password: string,
  options: AuthorizeOptions = {},
) {
  const { page, checks } = await beginAuthorization(ferry, config, browser, options);
  const callback = await completeLogin(ferry, browser, page, identifier, password);
  return oidc.authorizationCodeGrant(config, new URL(callback.url), checks);
}

/** From the login page to the redirect back to the relying party. */
export async function completeLogin(ferry: TestFerry, browser: Browser, page: Page, identifier: string, password: string): Promise<Page> {
  assert.match(page.url, /\/interaction\//, `expected the login page, got ${page.url} (${page.status})`);
  const next = await consentIfAsked(ferry, browser, await browser.submit(page, '/login', { identifier, password }, ferry.redirectUri));
  assert.ok(next.url.startsWith(ferry.redirectUri), `expected a redirect to the client, got ${next.url} (${next.status}): ${next.html.slice(0, 500)}`);
  return next;
}

/** Registers through the hosted registration page, ending back at the client. */
export async function registerThroughForm(ferry: TestFerry, config: oidc.Configuration, browser: Browser, values: Record<string, string>) {
  const { page, checks } = await beginAuthorization(ferry, config, browser);
  const form = await browser.get(new URL(`${new URL(page.url).pathname}/register`, page.url).href);
  const result = await consentIfAsked(
    ferry,
    browser,
    await browser.submit(form, '/register', { password_confirm: values.password ?? '', ...values }, ferry.redirectUri),
  );
  return { result, checks };
}

/** Allows on the consent page when it is the page shown. */
export async function consentIfAsked(ferry: TestFerry, browser: Browser, page: Page): Promise<Page> {
  if (!page.url.includes('/interaction/') || !page.html.includes('/confirm"')) return page;
  return browser.submit(page, '/confirm', {}, ferry.redirectUri);
}

/** A Ferry (with `overrides`) started before the suite's tests and stopped after them, and the test client as its relying party. */
export function ferryForSuite(overrides: Partial<ConfigInput> = {}): { ferry: TestFerry; rp: oidc.Configuration } {
  const suite = {} as { ferry: TestFerry; rp: oidc.Configuration };
  before(async () => {
    suite.ferry = await startFerry(overrides);
    suite.rp = await relyingParty(suite.ferry);
  });
  after(async () => {
    await suite.ferry?.stop();
    if (suite.ferry) removeDataDir(suite.ferry.dataDir);
  });
  return suite;
}

/** An authorization request's URL for a browser driven by a test (its PKCE verifier is not kept: the test does not redeem the code). */
export async function authorizationUrl(ferry: TestFerry, config: oidc.Configuration, scope = 'openid email'): Promise<string> {
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: ferry.redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  return url.href;
}
