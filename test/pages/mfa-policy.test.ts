import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { freePort, removeDataDir, startFerry, TEST_CLIENT, type TestFerry } from '../helpers/ferry.ts';
import { beginAuthorization, consentIfAsked, registerThroughForm, relyingParty, type AuthorizeOptions } from '../helpers/relying-party.ts';

/** A relying party that requires a second factor of everyone who signs in to it. */
const STRICT_CLIENT = { ...TEST_CLIENT, client_id: 'strict-app', client_secret: 'strict-app-secret-that-is-long-enough' };

const code =
  (secret: string) =>
  (steps = 0) =>
    new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });

const secretOn = (page: Page) => /id="totp-secret">([A-Z2-7]+)</.exec(page.html)?.[1];
const isCodeForm = (page: Page) => /action="\/interaction\/[^"]+\/two-step"/.test(page.html);
const isPasswordForm = (page: Page) => /action="\/interaction\/[^"]+\/login"/.test(page.html);

/** A Ferry with the test client and the strict one (`require_mfa`), started with `overrides`. */
function ferryWithStrictClient(overrides: Record<string, unknown> = {}) {
  const suite = {} as { ferry: TestFerry; rp: oidc.Configuration; strict: oidc.Configuration };
  before(async () => {
    const port = await freePort();
    const callback = [`http://127.0.0.1:${port}/test-callback`];
    suite.ferry = await startFerry(
      {
        clients: [
          { ...TEST_CLIENT, redirect_uris: callback },
          { ...STRICT_CLIENT, redirect_uris: callback, require_mfa: true },
        ],
        ...overrides,
      },
      { port, dataDir: mkdtempSync(join(tmpdir(), 'ferry-test-')) },
    );
    suite.rp = await relyingParty(suite.ferry);
    suite.strict = await relyingParty(suite.ferry, STRICT_CLIENT);
  });
  after(async () => {
    await suite.ferry?.stop();
    if (suite.ferry) removeDataDir(suite.ferry.dataDir);
  });
  return suite;
}

describe('second factor policy and step-up', () => {
  const suite = ferryWithStrictClient({ adminToken: ADMIN_TOKEN });

  /** An authorization request of `rp` in `browser`; `finish` takes the page back at the client to its ID token claims. */
  const authorize = async (rp: oidc.Configuration, browser: Browser, options: AuthorizeOptions = {}) => {
    const { page, checks } = await beginAuthorization(suite.ferry, rp, browser, { scope: 'openid email', ...options });
    const finish = async (at: Page) => {
      const done = await consentIfAsked(suite.ferry, browser, at);
      assert.ok(done.url.startsWith(suite.ferry.redirectUri), `expected the client, got ${done.url}: ${done.html.slice(0, 400)}`);
      return (await oidc.authorizationCodeGrant(rp, new URL(done.url), checks)).claims()!;
    };
    return { page, finish };
  };
  const password = (browser: Browser, page: Page, user: { email: string; password: string }) =>
    browser.submit(page, '/login', { identifier: user.email, password: user.password }, suite.ferry.redirectUri);

  /** Enrols at the enrolment page of a sign-in; answers the app's codes and the page after the recovery codes. */
  const enrolDuringSignIn = async (browser: Browser, page: Page) => {
    const secret = secretOn(page);
    assert.ok(secret, `the enrolment page, got ${page.url}: ${page.html.slice(0, 400)}`);
    assert.match(page.html, /<svg[^>]*>.*<path/s, 'a QR code drawn in the page');
    const app = code(secret);
    // The sign-in cannot be finished before the factor is confirmed.
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
    const uid = /action="\/interaction\/([^/"]+)\/two-step\/enrol"/.exec(page.html)![1]!;
    const early = await browser.request(`${suite.ferry.issuer}/interaction/${uid}/two-step/continue`, { method: 'POST', form: { csrf } });
    assert.equal(early.status, 400, 'no sign-in before the first code');
    const wrong = await browser.submit(page, '/two-step/enrol', { code: app() === '000000' ? '111111' : '000000' });
    assert.equal(wrong.status, 400);
    assert.equal(secretOn(wrong), secret, 'a wrong first code keeps the secret being enrolled');
    const shown = await browser.submit(wrong, '/two-step/enrol', { code: app() });
    assert.equal(shown.status, 200, shown.html.slice(0, 400));
    assert.equal([...shown.html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].length, 10, 'ten recovery codes, shown once');
    const next = await browser.submit(shown, '/two-step/continue', {}, suite.ferry.redirectUri);
    return { app, next, recovery: [...shown.html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!) };
  };
  /** Until the clock's second is past `authTime`, so that a new sign-in has a later auth_time (waits at most a second). */
  const pastSecond = async (authTime: unknown) => {
    while (Math.floor(Date.now() / 1000) <= Number(authTime)) await new Promise((resolve) => setTimeout(resolve, 100));
  };

  it('discovery names the authentication classes', () => {
    assert.deepEqual(suite.rp.serverMetadata().acr_values_supported, ['urn:ferry:pwd', 'urn:ferry:mfa']);
  });

  it('a require_mfa client makes a user without a factor enrol during the sign-in; another client does not ask, and a password-only session steps up', async () => {
    const user = { email: 'policy@example.com', password: 'policy own password' };
    const first = new Browser();
    const registered = await registerThroughForm(suite.ferry, suite.rp, first, user);
    assert.ok(registered.result.url.startsWith(suite.ferry.redirectUri));

    // Password only, through the client that does not require a factor.
    const browserA = new Browser();
    const relaxed = await authorize(suite.rp, browserA);
    const relaxedClaims = await relaxed.finish(await password(browserA, relaxed.page, user));
    assert.deepEqual(relaxedClaims.amr, ['pwd']);
    assert.equal(relaxedClaims.acr, 'urn:ferry:pwd');

    // The strict client: after the password comes enrolment, and the sign-in finishes with the factor.
    const browserB = new Browser();
    const strict = await authorize(suite.strict, browserB);
    const held = await password(browserB, strict.page, user);
    assert.ok(!held.url.startsWith(suite.ferry.redirectUri), 'the password alone does not finish the sign-in');
    const { app, next } = await enrolDuringSignIn(browserB, held);
    const strictClaims = await strict.finish(next);
    assert.deepEqual(strictClaims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(strictClaims.acr, 'urn:ferry:mfa');

    // browserA's session had the password alone: not enough for the strict client without a page…
    const silent = await authorize(suite.strict, browserA, { prompt: 'none' });
    assert.equal(new URL(silent.page.url).searchParams.get('error'), 'login_required');
    // …which asks it for the code, not the password again.
    const stepUp = await authorize(suite.strict, browserA);
    assert.ok(isCodeForm(stepUp.page), `the code form, got ${stepUp.page.url}: ${stepUp.page.html.slice(0, 400)}`);
    assert.ok(!isPasswordForm(stepUp.page));
    const steppedUp = await stepUp.finish(await browserA.submit(stepUp.page, '/two-step', { code: app(1) }, suite.ferry.redirectUri));
    assert.equal(steppedUp.acr, 'urn:ferry:mfa');
    assert.deepEqual(steppedUp.amr, ['pwd', 'otp', 'mfa']);

    // browserB's session has the factor: the strict client signs in without a page.
    const again = await authorize(suite.strict, browserB);
    assert.equal((await again.finish(again.page)).acr, 'urn:ferry:mfa');
  });

  it('prompt=login and a passed max_age at a require_mfa client ask for the password and the second factor again, whatever the session had', async () => {
    const user = { email: 'relogin@example.com', password: 'relogin own password' };
    await registerThroughForm(suite.ferry, suite.rp, new Browser(), user);
    const browser = new Browser();
    // A max_age that does not pass, for auth_time in the first ID token.
    const first = await authorize(suite.strict, browser, { extra: { max_age: '86400' } });
    const { app, next, recovery } = await enrolDuringSignIn(browser, await password(browser, first.page, user));
    const before = await first.finish(next);
    assert.deepEqual(before.amr, ['pwd', 'otp', 'mfa']);
    assert.ok(before.auth_time, 'auth_time in the first ID token');

    // The session has the password and the factor; prompt=login takes neither from it.
    await pastSecond(before.auth_time);
    const relogin = await authorize(suite.strict, browser, { prompt: 'login' });
    assert.ok(isPasswordForm(relogin.page), `the password form, got ${relogin.page.url}`);
    const codeForm = await password(browser, relogin.page, user);
    assert.ok(isCodeForm(codeForm), `the code form after the password, not the application: ${codeForm.url}`);
    const fresh = await relogin.finish(await browser.submit(codeForm, '/two-step', { code: app(1) }, suite.ferry.redirectUri));
    assert.deepEqual(fresh.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(fresh.acr, 'urn:ferry:mfa');
    assert.ok(Number(fresh.auth_time) > Number(before.auth_time), `auth_time is the new sign-in’s: ${before.auth_time}, then ${fresh.auth_time}`);

    // max_age=1 once the session is older than that: the same, here with a recovery code.
    await pastSecond(Number(fresh.auth_time) + 1);
    const aged = await authorize(suite.strict, browser, { extra: { max_age: '1' } });
    assert.ok(isPasswordForm(aged.page), `the password form, got ${aged.page.url}`);
    const agedCodeForm = await password(browser, aged.page, user);
    assert.ok(isCodeForm(agedCodeForm), `the code form after the password, not the application: ${agedCodeForm.url}`);
    const renewed = await aged.finish(await browser.submit(agedCodeForm, '/two-step', { code: recovery[0]! }, suite.ferry.redirectUri));
    assert.deepEqual(renewed.amr, ['pwd', 'mfa']);
    assert.equal(renewed.acr, 'urn:ferry:mfa');
    assert.ok(Number(renewed.auth_time) > Number(fresh.auth_time));
  });

  it('require_mfa is accepted on a client made through the admin API, and holds there too', async () => {
    const api = adminClient(suite.ferry);
    const refused = await api.post('/clients', { redirect_uris: [suite.ferry.redirectUri], require_mfa: 'yes' });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /require_mfa/);
    const made = await api.post('/clients', { redirect_uris: [suite.ferry.redirectUri], require_mfa: true });
    assert.equal(made.status, 201, made.text);
    const stored = await relyingParty(suite.ferry, { client_id: made.body.client.clientId, client_secret: made.body.clientSecret });

    const user = { email: 'stored@example.com', password: 'stored own password' };
    await registerThroughForm(suite.ferry, suite.rp, new Browser(), user);
    const browser = new Browser();
    const signIn = await authorize(stored, browser);
    const { next } = await enrolDuringSignIn(browser, await password(browser, signIn.page, user));
    assert.equal((await signIn.finish(next)).acr, 'urn:ferry:mfa');
  });

  it('the console sets require_mfa with a checkbox, through the same path as the API, and shows it read-only for a configured client', async () => {
    const admin = new Browser();
    const login = await admin.get(`${suite.ferry.issuer}/console/login`);
    const signedIn = await admin.submit(login, '/console/login', { token: ADMIN_TOKEN });
    assert.equal(new URL(signedIn.url).pathname, '/console/connection');
    const clients = await admin.get(`${suite.ferry.issuer}/console/clients`);
    assert.match(clients.html, /<input type="checkbox" name="require_mfa">/, 'unticked on a new application');
    const created = await admin.submit(clients, '/console/clients', {
      client_id: 'console-strict',
      redirect_uris: suite.ferry.redirectUri,
      token_endpoint_auth_method: 'client_secret_basic',
      require_mfa: 'on',
    });
    assert.equal(created.status, 201, created.html.slice(0, 400));
    assert.match(created.html, /<input type="checkbox" name="require_mfa" checked>/);
    assert.match(created.html, /id="client-mfa">required</);
    const api = adminClient(suite.ferry);
    assert.equal((await api.get('/clients/console-strict')).body.metadata.require_mfa, true, 'stored as the API stores it');

    // It holds: the password alone does not finish a sign-in to it.
    const secret = /<code class="secret">([^<]+)<\/code>/.exec(created.html)![1]!;
    const user = { email: 'console-strict@example.com', password: 'console strict password' };
    await registerThroughForm(suite.ferry, suite.rp, new Browser(), user);
    const browser = new Browser();
    const signIn = await authorize(await relyingParty(suite.ferry, { client_id: 'console-strict', client_secret: secret }), browser);
    assert.ok(secretOn(await password(browser, signIn.page, user)), 'enrolment after the password');

    // Unticked on the edit form: the requirement goes.
    const shown = await admin.get(`${suite.ferry.issuer}/console/clients/console-strict`);
    const saved = await admin.submit(shown, '/console/clients/console-strict', { redirect_uris: suite.ferry.redirectUri });
    assert.match(saved.html, /The application was saved/);
    assert.match(saved.html, /id="client-mfa">not required</);
    assert.match(saved.html, /<input type="checkbox" name="require_mfa">/);
    assert.equal((await api.get('/clients/console-strict')).body.metadata.require_mfa, undefined);

    // The configuration file's strict client: shown, not editable.
    const configured = await admin.get(`${suite.ferry.issuer}/console/clients/${STRICT_CLIENT.client_id}`);
    assert.match(configured.html, /id="read-only"/);
    assert.match(configured.html, /id="client-mfa">required</);
    assert.match(configured.html, /&#34;require_mfa&#34;: true|"require_mfa": true/);
    assert.doesNotMatch(configured.html, /name="require_mfa"/, 'no checkbox to change it');
  });

  it('acr_values=urn:ferry:mfa asks a password-only session for the code; the ID token carries the acr', async () => {
    const user = { email: 'stepup@example.com', password: 'stepup own password' };
    const browser = new Browser();
    await registerThroughForm(suite.ferry, suite.rp, browser, user);
    const enrol = await browser.get(`${suite.ferry.issuer}/account/two-step`);
    const app = code(secretOn(enrol)!);
    const on = await browser.submit(enrol, '/account/two-step/confirm', { code: app() });
    const recovery = [...on.html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);

    // The session was signed in with the password alone: without acr_values it is used as it is.
    const quiet = await authorize(suite.rp, browser);
    assert.equal((await quiet.finish(quiet.page)).acr, 'urn:ferry:pwd');

    const asked = await authorize(suite.rp, browser, { extra: { acr_values: 'urn:ferry:mfa' } });
    assert.ok(isCodeForm(asked.page), `the code form, got ${asked.page.url}: ${asked.page.html.slice(0, 400)}`);
    const wrong = await browser.submit(asked.page, '/two-step', { code: 'nope' });
    assert.equal(wrong.status, 400);
    const claims = await asked.finish(await browser.submit(asked.page, '/two-step', { code: app(1) }, suite.ferry.redirectUri));
    assert.equal(claims.acr, 'urn:ferry:mfa');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);

    // Now the session has the factor: the same request needs no page.
    const satisfied = await authorize(suite.rp, browser, { extra: { acr_values: 'urn:ferry:mfa' } });
    assert.equal((await satisfied.finish(satisfied.page)).acr, 'urn:ferry:mfa');

    // prompt=login: the password and a second factor again (the app's next codes are taken: a recovery code), even in a session that has both.
    const relogin = await authorize(suite.rp, browser, { prompt: 'login' });
    assert.ok(isPasswordForm(relogin.page), `the password form, got ${relogin.page.url}`);
    const codeForm = await password(browser, relogin.page, user);
    assert.ok(isCodeForm(codeForm), 'the code after the password');
    const fresh = await relogin.finish(await browser.submit(codeForm, '/two-step', { code: recovery[0]! }, suite.ferry.redirectUri));
    assert.equal(fresh.acr, 'urn:ferry:mfa');
    assert.deepEqual(fresh.amr, ['pwd', 'mfa']);
    assert.ok(Number(fresh.auth_time) >= Math.floor(Date.now() / 1000) - 5, 'a fresh authentication');

    // max_age passed: the same.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const aged = await authorize(suite.rp, browser, { extra: { max_age: '1' } });
    assert.ok(isPasswordForm(aged.page), `the password form, got ${aged.page.url}`);
    assert.ok(isCodeForm(await password(browser, aged.page, user)));
  });
});

describe('second factor required of everyone (mfa.required)', () => {
  // One wrong code free, then a minute's wait: the third guess in a row is refused.
  const account = { freeFailures: 1, baseDelayMs: 60_000, maxDelayMs: 60_000, maxFailures: 100, resetAfterSeconds: 3600 };
  const suite = ferryWithStrictClient({ mfa: { required: true }, bruteForce: { account } });

  it('a new user enrols right after registering, and one who has not yet enrols at the next sign-in, whatever the client', async () => {
    const user = { email: 'everyone@example.com', password: 'everyone own password' };
    const registering = new Browser();
    const { result } = await registerThroughForm(suite.ferry, suite.rp, registering, user);
    assert.ok(!result.url.startsWith(suite.ferry.redirectUri), 'registration alone does not finish the sign-in');
    const secret = secretOn(result);
    assert.ok(secret, `the enrolment page, got ${result.url}: ${result.html.slice(0, 400)}`);

    // Left there; the next sign-in, through the client that does not ask for a factor itself, enrols.
    const browser = new Browser();
    const { page, checks } = await beginAuthorization(suite.ferry, suite.rp, browser, { scope: 'openid email' });
    const held = await browser.submit(page, '/login', { identifier: user.email, password: user.password }, suite.ferry.redirectUri);
    assert.equal(secretOn(held), secret, 'the enrolment page, with the secret being enrolled');
    const shown = await browser.submit(held, '/two-step/enrol', { code: code(secret)() });
    const next = await consentIfAsked(suite.ferry, browser, await browser.submit(shown, '/two-step/continue', {}, suite.ferry.redirectUri));
    const claims = (await oidc.authorizationCodeGrant(suite.rp, new URL(next.url), checks)).claims()!;
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, 'urn:ferry:mfa');
  });

  it('counts wrong codes at the sign-in and in the account area on one throttle: a wrong one on each path blocks both', async () => {
    const owner = new Browser();
    const user = { email: 'both-paths@example.com', password: 'both paths password' };
    const { result } = await registerThroughForm(suite.ferry, suite.rp, owner, user);
    const secret = secretOn(result)!;
    const shown = await owner.submit(result, '/two-step/enrol', { code: code(secret)() });
    const recovery = [...shown.html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
    await consentIfAsked(suite.ferry, owner, await owner.submit(shown, '/two-step/continue', {}, suite.ferry.redirectUri));
    const manage = await owner.get(`${suite.ferry.issuer}/account/two-step`);
    assert.equal(manage.status, 200);

    // A right password (which clears the account's run), then the code form of that sign-in.
    const other = new Browser();
    const { page } = await beginAuthorization(suite.ferry, suite.rp, other, { scope: 'openid email' });
    const form = await other.submit(page, '/login', { identifier: user.email, password: user.password }, suite.ferry.redirectUri);
    assert.ok(isCodeForm(form), form.html.slice(0, 400));

    const wrong = code(secret)() === '000000' ? '111111' : '000000';
    assert.equal((await other.submit(form, '/two-step', { code: wrong })).status, 400, 'the one free wrong code, at the sign-in');
    assert.equal((await owner.submit(manage, '/account/two-step/off', { code: wrong })).status, 400, 'the second, in the account area');
    const signInRefused = await other.submit(form, '/two-step', { code: recovery[0]! });
    assert.equal(signInRefused.status, 429, 'even a right code is refused at the sign-in');
    assert.ok(Number(signInRefused.headers.get('retry-after')) > 0);
    const accountRefused = await owner.submit(manage, '/account/two-step/recovery-codes', { code: recovery[1]! });
    assert.equal(accountRefused.status, 429, 'and in the account area');
    assert.ok(Number(accountRefused.headers.get('retry-after')) > 0);
  });

  it('counts wrong first codes against the account, like wrong passwords', async () => {
    const browser = new Browser();
    const { result } = await registerThroughForm(suite.ferry, suite.rp, browser, { email: 'guess@example.com', password: 'guess own password' });
    const app = code(secretOn(result)!);
    const wrong = app() === '000000' ? '111111' : '000000';
    assert.equal((await browser.submit(result, '/two-step/enrol', { code: wrong })).status, 400);
    assert.equal((await browser.submit(result, '/two-step/enrol', { code: wrong })).status, 400);
    const refused = await browser.submit(result, '/two-step/enrol', { code: app() });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
  });
});
