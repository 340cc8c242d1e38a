import assert from 'node:assert/strict';
import { createHash, type JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, findForm } from '../helpers/browser.ts';
import {
  POST_CLIENT,
  PUBLIC_CLIENT_ID,
  assertErrorPageWithoutRedirect,
  assertSessionStillSignsIn,
  decodeJwt,
  maxAgeRound,
  oauthError,
  outliveMaxAgeOne,
  rawAuthorize,
  redirectedError,
  startWithPublicClient,
  verifyJws,
} from '../helpers/conformance.ts';
import { TEST_CLIENT, removeDataDir, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, completeLogin, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

/**
 * Conformance-style checks modelled on the OpenID Foundation's Basic OP test plan: what a relying
 * party can rely on from Ferry's authorization, token, userinfo and discovery endpoints, and what
 * Ferry must refuse. One Ferry serves every check, set up as a production deployment in the
 * middle of a migration runs: its own data in PostgreSQL (a pool, so concurrent requests really
 * are concurrent), with a lazy-migration connection to a real PostgreSQL legacy database.
 */

const PASSWORD = 'conformance password 42';
/** Lives only in the legacy database until the first sign-in. */
const LEGACY_USER = { email: 'linus@example.com', username: 'linus', name: 'Linus Legacy', password: 'linus-legacy-pw' };

type Tokens = Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;

describe('OIDC conformance (Basic OP): Ferry on PostgreSQL, lazy migration from a legacy PostgreSQL', () => {
  let legacy: LegacyDatabase;
  let store: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let ferry: TestFerry;
  let config: oidc.Configuration;
  let publicConfig: oidc.Configuration;
  let postConfig: oidc.Configuration;
  let metadata: Record<string, unknown>;
  let jwks: JsonWebKey[];
  const email = 'grace@example.com';

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', [LEGACY_USER]);
    store = await createPostgresDatabase();
    ferry = await startWithPublicClient({
      databaseUrl: store.url,
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    });
    config = await relyingParty(ferry);
    publicConfig = await relyingParty(ferry, { client_id: PUBLIC_CLIENT_ID });
    postConfig = await oidc.discovery(new URL(ferry.issuer), POST_CLIENT.client_id, {}, oidc.ClientSecretPost(POST_CLIENT.client_secret), {
      execute: [oidc.allowInsecureRequests],
    });
    const { result } = await registerThroughForm(ferry, config, new Browser(), { email, name: 'Grace Hopper', username: 'grace', password: PASSWORD });
    assert.ok(result.url.startsWith(ferry.redirectUri), `registered: ${result.url}`);
    metadata = (await (await fetch(`${ferry.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    jwks = ((await (await fetch(String(metadata.jwks_uri))).json()) as { keys: JsonWebKey[] }).keys;
  });

  after(async () => {
    await ferry?.stop();
    await store?.drop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  describe('discovery', () => {
    it('publishes every field of the Basic OP profile', () => {
      assert.equal(metadata.issuer, ferry.issuer);
      for (const [field, path] of [
        ['authorization_endpoint', '/auth'],
        ['token_endpoint', '/token'],
        ['userinfo_endpoint', '/me'],
        ['jwks_uri', '/jwks'],
        ['end_session_endpoint', '/session/end'],
        ['introspection_endpoint', '/token/introspection'],
        ['revocation_endpoint', '/token/revocation'],
      ] as const) {
        assert.equal(metadata[field], `${ferry.issuer}${path}`, field);
      }
      const list = (field: string) => {
        assert.ok(Array.isArray(metadata[field]) && (metadata[field] as unknown[]).length > 0, `${field} is a non-empty list`);
        return metadata[field] as string[];
      };
      assert.ok(list('response_types_supported').includes('code'));
      assert.ok(list('subject_types_supported').includes('public'));
      assert.ok(list('id_token_signing_alg_values_supported').includes('RS256'));
      assert.ok(!list('id_token_signing_alg_values_supported').includes('none'), 'no unsigned ID tokens');
      assert.ok(list('scopes_supported').includes('openid'));
      assert.ok(list('token_endpoint_auth_methods_supported').includes('client_secret_basic'));
      assert.ok(list('claims_supported').includes('sub'));
      assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
      const grants = list('grant_types_supported');
      assert.ok(grants.includes('authorization_code') && grants.includes('refresh_token'), `grant_types_supported: ${grants.join(', ')}`);
    });

    it('publishes only public signing keys, each with kid, alg and use', () => {
      assert.ok(jwks.length > 0);
      for (const key of jwks) {
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
          assert.equal((key as Record<string, unknown>)[secret], undefined, `no private member ${secret} in ${key.kid}`);
        assert.ok(key.kid, 'kid');
        assert.ok(key.alg, `alg of ${key.kid}`);
        assert.equal(key.use, 'sig', `use of ${key.kid}`);
      }
      assert.ok(
        jwks.some((key) => key.alg === 'RS256'),
        'an RS256 key',
      );
    });
  });

  describe('ID token', () => {
    it('is signed by a published key and carries iss, aud, exp, iat, auth_time and the nonce', async (t) => {
      const browser = new Browser();
      // auth_time is REQUIRED only when max_age (or the claim) is requested (OIDC Core 2); a later
      // test shows oidc-provider leaves it out otherwise, so this request asks for it with max_age.
      const { page, checks } = await beginAuthorization(ferry, config, browser, { extra: { max_age: '3600' } });
      const callback = await completeLogin(ferry, browser, page, email, PASSWORD);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(callback.url), checks);
      const idToken = tokens.id_token!;
      assert.ok(verifyJws(idToken, jwks), 'the signature verifies against the JWKS');
      const tampered = `${idToken.split('.')[0]}.${Buffer.from(JSON.stringify({ ...decodeJwt(idToken).payload, sub: 'someone-else' })).toString('base64url')}.${idToken.split('.')[2]}`;
      assert.equal(verifyJws(tampered, jwks), false, 'a changed payload does not verify');

      const { header, payload } = decodeJwt(idToken);
      assert.equal(header.alg, 'RS256', 'the client default');
      assert.equal(payload.iss, ferry.issuer);
      assert.equal(payload.aud, TEST_CLIENT.client_id);
      const now = Math.floor(Date.now() / 1000);
      for (const claim of ['exp', 'iat', 'auth_time'] as const) assert.equal(typeof payload[claim], 'number', `${claim} is a number`);
      assert.ok((payload.exp as number) > now && (payload.iat as number) <= now + 1 && (payload.auth_time as number) <= (payload.iat as number));
      assert.equal(payload.nonce, checks.expectedNonce);
      assert.equal(typeof payload.sub, 'string');
      if (payload.at_hash === undefined) {
        t.diagnostic('no at_hash: oidc-provider leaves it out of ID tokens from the token endpoint (optional in the code flow, OIDC Core 3.1.3.6)');
      } else {
        const digest = createHash('sha256').update(tokens.access_token).digest();
        assert.equal(payload.at_hash, digest.subarray(0, digest.length / 2).toString('base64url'), 'at_hash is the left half of SHA-256(access_token)');
      }
    });

    it('leaves auth_time out only when no one asked for it; accepts no nonce, unknown and optional parameters', async (t) => {
      const browser = new Browser();
      await signIn(ferry, config, browser, email, PASSWORD);
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: ferry.redirectUri,
        scope: 'openid',
        state,
        code_challenge: await oidc.calculatePKCECodeChallenge('v'.repeat(43)),
        code_challenge_method: 'S256',
        an_unknown_parameter: 'is ignored',
        display: 'popup',
        ui_locales: 'fr-CA fr en',
        claims_locales: 'de',
        acr_values: '1 2',
      });
      const callback = await browser.get(url.href, ferry.redirectUri);
      assert.ok(callback.url.startsWith(ferry.redirectUri), `the session signs in: ${callback.url}`);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(callback.url), { expectedState: state, pkceCodeVerifier: 'v'.repeat(43) });
      const payload = decodeJwt(tokens.id_token!).payload;
      assert.equal(payload.nonce, undefined, 'no nonce sent, none returned');
      assert.ok(payload.auth_time === undefined || typeof payload.auth_time === 'number');
      t.diagnostic(`auth_time without max_age: ${payload.auth_time === undefined ? 'left out (optional, OIDC Core 2)' : 'included'}`);
    });

    it('round-trips state in the redirect and nonce in the ID token', async () => {
      const browser = new Browser();
      const state = `state-${oidc.randomState()}`;
      const nonce = `nonce-${oidc.randomNonce()}`;
      const { page, checks } = await beginAuthorization(ferry, config, browser, { extra: { state, nonce } });
      const callback = await completeLogin(ferry, browser, page, email, PASSWORD);
      assert.equal(new URL(callback.url).searchParams.get('state'), state);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(callback.url), { ...checks, expectedState: state, expectedNonce: nonce });
      assert.equal(decodeJwt(tokens.id_token!).payload.nonce, nonce);
      assert.equal(tokens.claims()!.nonce, nonce);
    });
  });

  describe('authorization code', () => {
    it('refuses a second use with invalid_grant and revokes the tokens issued from it', async () => {
      const browser = new Browser();
      const { page, checks } = await beginAuthorization(ferry, config, browser, { scope: 'openid email offline_access' });
      const callback = new URL((await completeLogin(ferry, browser, page, email, PASSWORD)).url);
      const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
      const sub = tokens.claims()!.sub;
      assert.ok(tokens.refresh_token, 'a refresh token was issued');
      assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true);

      await assert.rejects(oidc.authorizationCodeGrant(config, callback, checks), oauthError('invalid_grant'));

      assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false, 'the access token is revoked');
      assert.equal((await oidc.tokenIntrospection(config, tokens.refresh_token)).active, false, 'the refresh token is revoked');
      await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, sub), oauthError('invalid_token'));
      await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), oauthError('invalid_grant'));
    });

    it('lets only one of many concurrent redemptions of a code win, and revokes what it got', async () => {
      const browser = new Browser();
      const { page, checks } = await beginAuthorization(ferry, config, browser, { scope: 'openid offline_access' });
      const callback = new URL((await completeLogin(ferry, browser, page, email, PASSWORD)).url);
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => oidc.authorizationCodeGrant(config, callback, checks)));
      const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      assert.ok(won.length <= 1, `${won.length} redemptions of one code succeeded`);
      for (const result of results) if (result.status === 'rejected') oauthError('invalid_grant')(result.reason);
      for (const tokens of won) {
        assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false, 'the code was used more than once: its tokens are revoked');
        await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
      }
    });

    it('lets only one of many concurrent uses of a refresh token rotate it', async () => {
      const tokens = await signIn(ferry, config, new Browser(), email, PASSWORD, { scope: 'openid offline_access' });
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => oidc.refreshTokenGrant(config, tokens.refresh_token!)));
      const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      assert.ok(won.length <= 1, `${won.length} rotations of one refresh token succeeded`);
      for (const result of results) if (result.status === 'rejected') oauthError('invalid_grant')(result.reason);
    });
  });

  describe('client authentication and refresh tokens', () => {
    it('accepts client_secret_post from a client registered for it', async () => {
      const tokens = await signIn(ferry, postConfig, new Browser(), email, PASSWORD, { scope: 'openid' });
      assert.equal(tokens.claims()!.aud, POST_CLIENT.client_id);
    });

    it('refreshes into an ID token for the same iss, sub, aud and original auth_time, bound to its client', async () => {
      const browser = new Browser();
      const { page, checks } = await beginAuthorization(ferry, postConfig, browser, { scope: 'openid email', extra: { max_age: '3600' } });
      const callback = await completeLogin(ferry, browser, page, email, PASSWORD);
      const tokens = await oidc.authorizationCodeGrant(postConfig, new URL(callback.url), checks);
      const original = tokens.claims()!;

      await assert.rejects(
        oidc.refreshTokenGrant(config, tokens.refresh_token!),
        oauthError('invalid_grant'),
        "another client cannot use this client's refresh token",
      );

      const refreshed = await oidc.refreshTokenGrant(postConfig, tokens.refresh_token!);
      const claims = refreshed.claims()!;
      assert.ok(verifyJws(refreshed.id_token!, jwks));
      assert.equal(claims.iss, original.iss);
      assert.equal(claims.sub, original.sub);
      assert.equal(claims.aud, original.aud);
      assert.ok(claims.iat >= original.iat);
      if (claims.auth_time !== undefined) assert.equal(claims.auth_time, original.auth_time, 'the time of the original authentication (OIDC Core 12.2)');
      assert.equal((await oidc.fetchUserInfo(postConfig, refreshed.access_token, original.sub)).email, email);
    });
  });

  describe('redirect_uri', () => {
    const refused = {
      'an unregistered URI': (ferry: TestFerry) => `${ferry.issuer}/elsewhere`,
      'an unregistered host': () => 'https://attacker.example/test-callback',
      'the registered URI with a query string added': (ferry: TestFerry) => `${ferry.redirectUri}?next=https://attacker.example`,
      'the registered URI with a fragment': (ferry: TestFerry) => `${ferry.redirectUri}#fragment`,
    };
    for (const [what, uri] of Object.entries(refused)) {
      it(`refuses ${what} with an error page and no redirect`, async () => {
        const browser = new Browser();
        const redirectUri = uri(ferry);
        const page = await rawAuthorize(config, browser, {
          client_id: TEST_CLIENT.client_id,
          response_type: 'code',
          scope: 'openid',
          redirect_uri: redirectUri,
          state: 'st',
          code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        });
        assertErrorPageWithoutRedirect(page, what);
        assert.match(page.html, /<code>invalid_redirect_uri<\/code>/, 'the page says what was wrong');
      });
    }

    it('answers request objects and request_uri as unsupported, at the redirect URI', async () => {
      for (const [param, value, error] of [
        ['request', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`, 'request_not_supported'],
        ['request_uri', 'https://attacker.example/request.jwt', 'request_uri_not_supported'],
      ] as const) {
        const page = await rawAuthorize(config, new Browser(), {
          client_id: TEST_CLIENT.client_id,
          response_type: 'code',
          scope: 'openid',
          redirect_uri: ferry.redirectUri,
          state: param,
          [param]: value,
        });
        const params = redirectedError(ferry, page);
        assert.equal(params.get('error'), error);
        assert.equal(params.get('state'), param);
      }
      assert.notEqual(metadata.request_parameter_supported, true);
      assert.equal(metadata.request_uri_parameter_supported, false);
    });

    it('refuses an unknown client_id without redirecting and without reflecting the input', async () => {
      const attack = '<script>alert(1)</script>';
      const page = await rawAuthorize(config, new Browser(), {
        client_id: attack,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: ferry.redirectUri,
        state: attack,
      });
      assertErrorPageWithoutRedirect(page, 'unknown client');
      assert.match(page.html, /<code>invalid_client<\/code>/);
      assert.ok(!page.html.includes(attack), 'the raw client_id is not in the page');
      assert.ok(!/<script/i.test(page.html), 'no script element at all');
    });
  });

  describe('login_hint', () => {
    it('pre-fills the identifier on the login page, escaped', async () => {
      const plain = await beginAuthorization(ferry, config, new Browser(), { extra: { login_hint: email } });
      assert.equal(findForm(plain.page, '/login').fields.identifier, email);

      const hostile = '"><script>alert(1)</script>';
      const { page } = await beginAuthorization(ferry, config, new Browser(), { extra: { login_hint: hostile } });
      assert.equal(findForm(page, '/login').fields.identifier, hostile, 'the value round-trips');
      assert.ok(!page.html.includes(hostile), 'but never as markup');
    });
  });

  describe('PKCE', () => {
    it('lets a public client in with S256', async () => {
      const tokens = await signIn(ferry, publicConfig, new Browser(), email, PASSWORD);
      assert.equal(tokens.claims()!.aud, PUBLIC_CLIENT_ID);
    });

    it('refuses a public client that sends no code_challenge', async () => {
      const params = redirectedError(
        ferry,
        await rawAuthorize(publicConfig, new Browser(), {
          client_id: PUBLIC_CLIENT_ID,
          response_type: 'code',
          scope: 'openid',
          redirect_uri: ferry.redirectUri,
          state: 'no-pkce',
        }),
      );
      assert.equal(params.get('error'), 'invalid_request');
      assert.equal(params.get('state'), 'no-pkce');
    });

    it('refuses code_challenge_method=plain', async () => {
      for (const [client, configuration] of [
        [PUBLIC_CLIENT_ID, publicConfig],
        [TEST_CLIENT.client_id, config],
      ] as const) {
        const verifier = oidc.randomPKCECodeVerifier();
        const page = await rawAuthorize(configuration, new Browser(), {
          client_id: client,
          response_type: 'code',
          scope: 'openid',
          redirect_uri: ferry.redirectUri,
          state: 'plain',
          code_challenge: verifier,
          code_challenge_method: 'plain',
        });
        const params = redirectedError(ferry, page);
        assert.equal(params.get('error'), 'invalid_request', `${client}: ${params.get('error_description')}`);
      }
    });

    /** A code issued for an S256 challenge, ready to exchange. */
    const codeWithChallenge = async (configuration: oidc.Configuration) => {
      const browser = new Browser();
      const { page, checks } = await beginAuthorization(ferry, configuration, browser, { scope: 'openid' });
      const callback = await completeLogin(ferry, browser, page, email, PASSWORD);
      return { callback: new URL(callback.url), checks };
    };

    for (const [label, configuration] of [
      ['confidential', () => config],
      ['public', () => publicConfig],
    ] as const) {
      it(`refuses a missing code_verifier at the token endpoint (${label} client)`, async () => {
        const { callback, checks } = await codeWithChallenge(configuration());
        await assert.rejects(oidc.authorizationCodeGrant(configuration(), callback, { ...checks, pkceCodeVerifier: undefined }), oauthError('invalid_grant'));
      });

      it(`refuses a wrong code_verifier (${label} client)`, async () => {
        const { callback, checks } = await codeWithChallenge(configuration());
        await assert.rejects(
          oidc.authorizationCodeGrant(configuration(), callback, { ...checks, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }),
          oauthError('invalid_grant'),
        );
      });
    }

    it('refuses a confidential client that sends no code_challenge', async () => {
      const params = redirectedError(
        ferry,
        await rawAuthorize(config, new Browser(), {
          client_id: TEST_CLIENT.client_id,
          response_type: 'code',
          scope: 'openid',
          redirect_uri: ferry.redirectUri,
          state: 'no-pkce',
        }),
      );
      assert.equal(params.get('error'), 'invalid_request');
      assert.match(params.get('error_description') ?? '', /requires PKCE/);
      assert.equal(params.get('state'), 'no-pkce');
    });

    it('lets a legacy confidential client configured with pkce_optional in without a challenge, and then refuses a code_verifier', async () => {
      const withoutChallenge = async () => {
        const browser = new Browser();
        const state = oidc.randomState();
        const url = oidc.buildAuthorizationUrl(postConfig, { redirect_uri: ferry.redirectUri, scope: 'openid', state });
        const callback = await completeLogin(ferry, browser, await browser.get(url.href, ferry.redirectUri), email, PASSWORD);
        return { callback: new URL(callback.url), state };
      };
      const first = await withoutChallenge();
      const tokens = await oidc.authorizationCodeGrant(postConfig, first.callback, { expectedState: first.state });
      assert.equal(tokens.claims()!.aud, POST_CLIENT.client_id);
      const second = await withoutChallenge();
      await assert.rejects(
        oidc.authorizationCodeGrant(postConfig, second.callback, { expectedState: second.state, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }),
        oauthError('invalid_grant'),
      );
    });
  });

  describe('prompt and max_age', () => {
    it('answers prompt=none without a session with login_required at the redirect URI, echoing state', async () => {
      const { page, checks } = await beginAuthorization(ferry, config, new Browser(), { prompt: 'none' });
      assert.ok(page.url.startsWith(ferry.redirectUri), `redirected to the client: ${page.url}`);
      const params = new URL(page.url).searchParams;
      assert.equal(params.get('error'), 'login_required');
      assert.equal(params.get('state'), checks.expectedState);
      assert.equal(params.get('code'), null);
      await assert.rejects(oidc.authorizationCodeGrant(config, new URL(page.url), checks), oauthError('login_required'));
    });

    it('answers prompt=none with a session with a code for the same subject', async () => {
      const browser = new Browser();
      const first = await signIn(ferry, config, browser, email, PASSWORD);
      const { page, checks } = await beginAuthorization(ferry, config, browser, { prompt: 'none', extra: { id_token_hint: first.id_token! } });
      assert.ok(page.url.startsWith(ferry.redirectUri), `no page shown: ${page.url}`);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), checks);
      assert.equal(tokens.claims()!.sub, first.claims()!.sub);
    });

    it('shows the login page again for prompt=login although a session exists', async () => {
      const browser = new Browser();
      await signIn(ferry, config, browser, email, PASSWORD);
      const { page } = await beginAuthorization(ferry, config, browser, { prompt: 'login' });
      assert.match(page.url, /\/interaction\//);
      assert.match(page.html, /action="[^"]*\/login"/);
    });

    it('asks for a new login when max_age=1 has passed, and the new auth_time is later', async () => {
      const browser = new Browser();
      const first = await maxAgeRound(ferry, config, browser, email, PASSWORD);
      await outliveMaxAgeOne(first.auth_time);
      await assertSessionStillSignsIn(ferry, config, browser);
      const second = await maxAgeRound(ferry, config, browser, email, PASSWORD);
      assert.equal(second.sub, first.sub);
      assert.ok(second.auth_time > first.auth_time, `auth_time ${second.auth_time} is after ${first.auth_time}`);
    });
  });

  describe('userinfo', () => {
    let tokens: Tokens;
    before(async () => {
      tokens = await signIn(ferry, config, new Browser(), email, PASSWORD, { scope: 'openid profile email' });
    });

    const userinfo = async (init: RequestInit) => {
      const response = await fetch(String(metadata.userinfo_endpoint), init);
      assert.equal(response.status, 200, `userinfo answered ${response.status}: ${await response.clone().text()}`);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      return (await response.json()) as Record<string, unknown>;
    };

    it('releases only the claims of the scopes asked for, in any scope order', async () => {
      const emailOnly = await signIn(ferry, config, new Browser(), email, PASSWORD, { scope: 'email openid' });
      const claims = await oidc.fetchUserInfo(config, emailOnly.access_token, emailOnly.claims()!.sub);
      assert.equal(claims.email, email);
      assert.equal(claims.email_verified, false);
      assert.equal(claims.name, undefined, 'no profile claims without the profile scope');
      assert.equal(claims.preferred_username, undefined);
      assert.equal(emailOnly.claims()!.name, undefined, 'nor in the ID token');
    });

    it('returns the same claims by GET, by POST with the token in the body, and by POST with the header', async () => {
      const byClient = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      const byGet = await userinfo({ headers: { authorization: `Bearer ${tokens.access_token}` } });
      const byPostBody = await userinfo({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: tokens.access_token }).toString(),
      });
      const byPostHeader = await userinfo({ method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(byGet.sub, tokens.claims()!.sub);
      assert.equal(byGet.email, email);
      assert.equal(byGet.name, 'Grace Hopper');
      assert.deepEqual(byPostBody, byGet);
      assert.deepEqual(byPostHeader, byGet);
      assert.deepEqual({ ...byClient }, byGet);
    });

    it('answers a bad token with 401 and a WWW-Authenticate challenge', async () => {
      for (const init of [
        { headers: { authorization: 'Bearer not-a-real-token' } },
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'access_token=not-a-real-token' },
      ]) {
        const response = await fetch(String(metadata.userinfo_endpoint), init);
        assert.equal(response.status, 401);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
      }
      await assert.rejects(oidc.fetchUserInfo(config, 'not-a-real-token', oidc.skipSubjectCheck), oauthError('invalid_token'));
    });

    it('refuses a valid token in the query string, or sent two ways at once', async () => {
      const endpoint = new URL(String(metadata.userinfo_endpoint));
      endpoint.searchParams.set('access_token', tokens.access_token);
      const inQuery = await fetch(endpoint);
      assert.equal(inQuery.status, 400, 'tokens in URLs end up in logs (RFC 6750 5.3)');
      assert.equal(((await inQuery.json()) as { error: string }).error, 'invalid_request');
      const twice = await fetch(String(metadata.userinfo_endpoint), {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: tokens.access_token }).toString(),
      });
      assert.equal(twice.status, 400, 'one method only (RFC 6750 2)');
      assert.equal(((await twice.json()) as { error: string }).error, 'invalid_request');
    });
  });

  describe('max_age with lazy migration', () => {
    const loginScriptRuns = async () => {
      await ferry.ferry.federation.executions.flush();
      const { rows } = await ferry.ferry.db.query<{ n: number }>("select count(*)::int as n from script_executions where script = 'login'");
      return rows[0]!.n;
    };

    it('signs an unmigrated legacy user in through the login script, then forces the re-login locally', async () => {
      const browser = new Browser();
      const runsBefore = await loginScriptRuns();
      const first = await maxAgeRound(ferry, config, browser, LEGACY_USER.email, LEGACY_USER.password);
      assert.equal(await loginScriptRuns(), runsBefore + 1, 'the first sign-in of an unmigrated user ran the login script');
      const [row] = await legacy.query('select id from users where email = $1', [LEGACY_USER.email]);
      assert.equal(first.sub, String(row!.id), 'sub is the legacy id');
      const { rows } = await ferry.ferry.db.query<{ migrated_at: Date | null }>('select migrated_at from accounts where sub = $1', [first.sub]);
      assert.ok(rows[0]?.migrated_at instanceof Date, 'the user is migrated now');

      await outliveMaxAgeOne(first.auth_time);
      await assertSessionStillSignsIn(ferry, config, browser);
      const second = await maxAgeRound(ferry, config, browser, LEGACY_USER.email, LEGACY_USER.password);
      assert.equal(second.sub, first.sub);
      assert.ok(second.auth_time > first.auth_time, `auth_time ${second.auth_time} is after ${first.auth_time}`);
      assert.equal(await loginScriptRuns(), runsBefore + 1, 'the forced re-login of the migrated user was checked locally');
    });
  });
});
