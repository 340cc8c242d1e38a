import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

const PASSWORD = 'correct horse battery staple';

/** The whole relying-party journey, on one storage backend. */
function journey(backend: 'pglite' | 'postgres') {
  describe(`OIDC journey on ${backend}`, () => {
    let ferry: TestFerry;
    let dropDatabase: (() => Promise<void>) | undefined;
    let config: oidc.Configuration;

    before(async () => {
      let databaseUrl: string | undefined;
      if (backend === 'postgres') {
        await postgresReachable().catch((error: Error) => {
          throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
        });
        const database = await createPostgresDatabase();
        databaseUrl = database.url;
        dropDatabase = database.drop;
      }
      ferry = await startFerry(databaseUrl ? { databaseUrl } : {});
      config = await relyingParty(ferry);
      const { result } = await registerThroughForm(ferry, config, new Browser(), {
        email: 'Ada@Example.com',
        name: 'Ada Lovelace',
        username: 'ada',
        password: PASSWORD,
      });
      assert.ok(result.url.startsWith(ferry.redirectUri), `registration should end at the client: ${result.url} ${alertText(result) ?? ''}`);
    });

    after(async () => {
      await ferry?.stop();
      await dropDatabase?.();
      if (ferry) removeDataDir(ferry.dataDir);
    });

    it('signs in through the hosted form with code + PKCE and issues tokens with the account claims', async () => {
      const tokens = await signIn(ferry, config, new Browser(), 'ada@example.com', PASSWORD);
      const claims = tokens.claims()!;
      assert.equal(claims.iss, ferry.issuer);
      assert.equal(claims.aud, 'test-app');
      assert.equal(claims.email, 'ada@example.com');
      assert.equal(claims.name, 'Ada Lovelace');
      assert.equal(claims.preferred_username, 'ada');
      assert.equal(claims.email_verified, false);
      assert.ok(tokens.access_token && tokens.refresh_token, 'access and refresh tokens issued');
    });

    it('accepts the username as identifier too', async () => {
      const tokens = await signIn(ferry, config, new Browser(), '  ADA ', PASSWORD);
      assert.equal(tokens.claims()!.email, 'ada@example.com');
    });

    it('rotates refresh tokens, serves userinfo, introspects and revokes', async () => {
      const tokens = await signIn(ferry, config, new Browser(), 'ada@example.com', PASSWORD);
      const sub = tokens.claims()!.sub;

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'a new refresh token on every use');

      const userinfo = await oidc.fetchUserInfo(config, refreshed.access_token, sub);
      assert.equal(userinfo.email, 'ada@example.com');
      assert.equal(userinfo.name, 'Ada Lovelace');

      const active = await oidc.tokenIntrospection(config, refreshed.access_token);
      assert.equal(active.active, true);
      assert.equal(active.sub, sub);

      await oidc.tokenRevocation(config, refreshed.access_token);
      const revoked = await oidc.tokenIntrospection(config, refreshed.access_token);
      assert.equal(revoked.active, false);
      await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, sub), oauthError('invalid_token'));
    });

    it('treats reuse of a rotated refresh token as theft and revokes the whole grant', async () => {
      const tokens = await signIn(ferry, config, new Browser(), 'ada@example.com', PASSWORD);
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
      await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), oauthError('invalid_grant'));
      assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false);
    });

    it('signs out through RP-initiated logout and then needs a new login', async () => {
      const browser = new Browser();
      const tokens = await signIn(ferry, config, browser, 'ada@example.com', PASSWORD);
      const endSession = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${ferry.issuer}/signed-out` });
      const confirm = await browser.get(endSession.href);
      assert.match(confirm.html, /Sign out\?/);
      const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' }, `${ferry.issuer}/signed-out`);
      assert.ok(done.url.startsWith(`${ferry.issuer}/signed-out`), `redirected back to the client: ${done.url}`);

      const { page } = await beginAuthorization(ferry, config, browser, { prompt: 'none' });
      assert.ok(page.url.startsWith(ferry.redirectUri));
      assert.equal(new URL(page.url).searchParams.get('error'), 'login_required');
    });

    it('refuses a wrong password and an unknown user with the same page and status', async () => {
      const wrong = await attemptLogin(ferry, config, 'ada@example.com', 'not the password');
      const unknown = await attemptLogin(ferry, config, 'nobody@example.com', 'not the password');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(alertText(wrong), alertText(unknown));
      assert.match(alertText(wrong) ?? '', /not correct/);
    });

    it('refuses a second registration with the same email', async () => {
      const { result } = await registerThroughForm(ferry, config, new Browser(), { email: 'ADA@example.com', password: 'another password 123' });
      assert.equal(result.status, 409);
      assert.match(alertText(result) ?? '', /already exists/);
    });

    it('refuses a second registration with the same username or phone number, however they are written', async () => {
      const byUsername = await registerThroughForm(ferry, config, new Browser(), {
        email: 'someone-else@example.com',
        username: ' ADA ',
        password: 'another password 123',
      });
      assert.equal(byUsername.result.status, 409);
      assert.equal(alertText(byUsername.result), 'An account with this username already exists.');

      const first = await registerThroughForm(ferry, config, new Browser(), { phone: '+1 555 010 0042', password: 'a phone password 123' });
      assert.ok(first.result.url.startsWith(ferry.redirectUri), `registered by phone: ${alertText(first.result) ?? first.result.url}`);
      const byPhone = await registerThroughForm(ferry, config, new Browser(), { phone: '+1 (555) 010-0042', password: 'another password 123' });
      assert.equal(byPhone.result.status, 409);
      assert.equal(alertText(byPhone.result), 'An account with this phone number already exists.');
      const { rows } = await ferry.ferry.db.query<{ n: number }>(
        "select count(*)::int as n from accounts where phone = '+15550100042' or email = 'someone-else@example.com'",
      );
      assert.equal(rows[0]!.n, 1, 'only the first phone registration made an account');
    });

    it('survives a restart: the browser session, the refresh token and the signing keys', async () => {
      const browser = new Browser();
      const tokens = await signIn(ferry, config, browser, 'ada@example.com', PASSWORD);
      const before = await (await fetch(`${ferry.issuer}/jwks`)).json();
      ferry = await ferry.restart();
      const afterRestart = await (await fetch(`${ferry.issuer}/jwks`)).json();
      assert.deepEqual(afterRestart, before);
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      assert.ok(refreshed.access_token);
      const userinfo = await oidc.fetchUserInfo(config, refreshed.access_token, tokens.claims()!.sub);
      assert.equal(userinfo.email, 'ada@example.com');

      // The same browser is still signed in: a silent authorization answers with a code.
      const { page, checks } = await beginAuthorization(ferry, config, browser, { prompt: 'none' });
      const callback = new URL(page.url);
      assert.ok(page.url.startsWith(ferry.redirectUri), `redirected to the client: ${page.url} (${page.status})`);
      assert.equal(callback.searchParams.get('error'), null, `no error: ${callback.searchParams.get('error_description') ?? ''}`);
      const silent = await oidc.authorizationCodeGrant(config, callback, checks);
      assert.equal(silent.claims()!.sub, tokens.claims()!.sub);
    });
  });
}

/** Matches an openid-client error carrying the given OAuth error code. */
function oauthError(code: string) {
  return (error: unknown) => {
    const { error: direct, cause } = error as { error?: string; cause?: { error?: string } | { parameters?: { error?: string } }[] };
    const actual = direct ?? (Array.isArray(cause) ? cause[0]?.parameters?.error : cause?.error);
    assert.equal(actual, code);
    return true;
  };
}

async function attemptLogin(ferry: TestFerry, config: oidc.Configuration, identifier: string, password: string) {
  const browser = new Browser();
  const { page } = await beginAuthorization(ferry, config, browser);
  return browser.submit(page, '/login', { identifier, password });
}

journey('pglite');
journey('postgres');
