import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { checkPasswordPolicy, isCommonPassword, MAX_PASSWORD_LENGTH } from '../../src/accounts/passwords.ts';
import { Browser, alertText, findForm, type Page } from '../helpers/browser.ts';
import { TEST_CLIENT, freePort, removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';

describe('password policy', () => {
  it('asks for 8 characters, allows long passphrases, normalises Unicode and refuses common passwords', () => {
    const policy = { minLength: 8 };
    assert.throws(() => checkPasswordPolicy('short', policy), /at least 8 characters/);
    assert.equal(checkPasswordPolicy('x'.repeat(64) + 'y'.repeat(64), policy).length, 128, 'far more than 64 characters are fine');
    assert.throws(() => checkPasswordPolicy('x'.repeat(MAX_PASSWORD_LENGTH + 1), policy), /at most/);
    assert.equal(checkPasswordPolicy('Ｐａｓｓ ｐｈｒａｓｅ', policy), 'Pass phrase', 'NFKC folds full-width forms');
    for (const common of ['password', 'iloveyou', 'Qwertyuiop', 'letmein123']) {
      assert.ok(isCommonPassword(common), common);
      assert.throws(() => checkPasswordPolicy(common.length < 8 ? `${common}!!` : common, policy), /commonly used|at least/);
    }
  });
});

describe('web security of the hosted pages', () => {
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    ferry = await startFerry({ adminToken: 'web-test-admin-token-0123456789abcdef' });
    config = await relyingParty(ferry);
    await registerThroughForm(ferry, config, new Browser(), { email: 'leaver@example.com', password: 'a fine passphrase' });
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  it('has an icon, so no page asks for a /favicon.ico that answers 404', async () => {
    for (const path of ['/favicon.ico', '/static/favicon.svg']) {
      const response = await fetch(`${ferry.issuer}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'image/svg+xml', path);
      assert.match(await response.text(), /^<svg /, path);
    }
  });

  it('sends security headers and a CSP without inline script on every hosted page', async () => {
    const check = (name: string, page: Page) => {
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'(;|$)/, `${name}: script only from Ferry itself`);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, name);
      assert.match(csp, /frame-ancestors 'none'/, name);
      assert.equal(page.headers.get('x-frame-options'), 'DENY', name);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff', name);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/, name);
      assert.doesNotMatch(page.html, /<script(?![^>]*\bsrc=)[^>]*>/, `${name}: no inline <script>`);
      assert.doesNotMatch(page.html, /\sstyle=|<style/, `${name}: no inline style`);
      assert.match(page.html, /<link rel="icon" href="\/static\/favicon.svg"/, `${name}: names its icon`);
    };
    const browser = new Browser();
    // Consent is remembered across browser sessions: prompt=consent asks for it again.
    const { page: login } = await beginAuthorization(ferry, config, browser, { prompt: 'consent' });
    check('login', login);
    const register = await browser.get(new URL(`${new URL(login.url).pathname}/register`, login.url).href);
    assert.match(register.html, /action="[^"]*\/register"/);
    check('register', register);
    const consent = await browser.submit(login, '/login', { identifier: 'leaver@example.com', password: 'a fine passphrase' }, ferry.redirectUri);
    assert.match(consent.html, /\/confirm"/, 'the consent page');
    check('consent', consent);
    await browser.submit(consent, '/confirm', {}, ferry.redirectUri);

    const password = await browser.get(`${ferry.issuer}/account/password`);
    assert.equal(password.status, 200);
    check('account/password', password);
    const logout = await browser.get(`${ferry.issuer}/session/end?client_id=${TEST_CLIENT.client_id}`);
    assert.match(logout.html, /Sign out\?/);
    check('logout', logout);
    const loggedOut = await browser.submit(logout, '/session/end/confirm', { logout: 'yes' });
    assert.match(loggedOut.html, /Signed out/);
    check('signed out', loggedOut);

    const providerError = await new Browser().get(`${ferry.issuer}/auth?client_id=nobody&response_type=code&scope=openid`);
    assert.equal(providerError.status, 400);
    check('error (oidc-provider)', providerError);
    const ferryError = await new Browser().get(`${ferry.issuer}/interaction/no-such-interaction`);
    assert.ok(ferryError.status >= 400 && /Something went wrong|expired|no longer/i.test(ferryError.html), `${ferryError.status}`);
    check('error (Ferry)', ferryError);
    const consoleLogin = await new Browser().get(`${ferry.issuer}/console`);
    assert.match(consoleLogin.url, /\/console\/login$/);
    check('console', consoleLogin);
  });

  it('sets HttpOnly, SameSite cookies', async () => {
    const browser = new Browser();
    await signIn(ferry, config, browser, 'leaver@example.com', 'a fine passphrase').catch(() => undefined);
    const cookies = browser.setCookies.filter((line) => !/=;/.test(line));
    assert.ok(cookies.some((line) => line.startsWith('_interaction=')) && cookies.some((line) => line.startsWith('ferry.csrf=')), cookies.join('\n'));
    for (const cookie of cookies) {
      assert.match(cookie, /httponly/i, cookie);
      assert.match(cookie, /samesite=(lax|strict)/i, cookie);
    }
  });

  it("refuses a form posted without its CSRF token, or with another browser's", async () => {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    const form = findForm(page, '/login');
    const missing = await browser.request(new URL(form.action, page.url).href, { form: { identifier: 'x@example.com', password: 'whatever pw' } });
    assert.equal(missing.status, 403);
    assert.match(alertText(missing) ?? '', /expired or was not sent from this site/);

    const other = new Browser();
    const { page: otherPage } = await beginAuthorization(ferry, config, other);
    const forged = await browser.request(new URL(form.action, page.url).href, {
      form: { ...findForm(page, '/login').fields, csrf: findForm(otherPage, '/login').fields.csrf!, identifier: 'x@example.com', password: 'p' },
    });
    assert.equal(forged.status, 403);
  });

  it('refuses a common password at registration', async () => {
    const { result } = await registerThroughForm(ferry, config, new Browser(), { email: 'common@example.com', password: 'iloveyou1' });
    assert.equal(result.status, 400);
    assert.match(alertText(result) ?? '', /commonly used/);
  });

  it('refuses a common password on the password page, and keeps the old one', async () => {
    const browser = new Browser();
    await signIn(ferry, config, browser, 'leaver@example.com', 'a fine passphrase');
    const form = await browser.get(`${ferry.issuer}/account/password`);
    const refused = await browser.submit(form, '/account/password', {
      current_password: 'a fine passphrase',
      password: 'iloveyou1',
      password_confirm: 'iloveyou1',
    });
    assert.equal(refused.status, 400);
    assert.match(alertText(refused) ?? '', /commonly used/);
    const tokens = await signIn(ferry, config, new Browser(), 'leaver@example.com', 'a fine passphrase');
    assert.equal(tokens.claims()!.email, 'leaver@example.com', 'the password did not change');
  });

  it('does not redirect to an unregistered post-logout URI', async () => {
    const browser = new Browser();
    const tokens = await signIn(ferry, config, browser, 'leaver@example.com', 'a fine passphrase');
    const url = new URL(`${ferry.issuer}/session/end`);
    url.searchParams.set('id_token_hint', tokens.id_token!);
    url.searchParams.set('post_logout_redirect_uri', 'https://evil.example/');
    const answer = await browser.request(url.href);
    assert.equal(answer.headers.get('location'), null);
    assert.equal(answer.status, 400);
  });

  it('counts sign-ins in the Prometheus metrics', async () => {
    const text = await (await fetch(`${ferry.issuer}/metrics`)).text();
    assert.match(text, /ferry_logins_total\{outcome="success",path="local"\} [1-9]/);
    assert.match(text, /# TYPE ferry_script_duration_seconds histogram/);
    assert.match(text, /ferry_process_resident_memory_bytes/);
  });
});

describe('metrics behind a token', () => {
  it('answers 401 without the metricsToken or with a wrong one, and the metrics with it', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const ferry = await startFerry({ metricsToken: token });
    try {
      const url = `${ferry.issuer}/metrics`;
      const none = await fetch(url);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token.slice(0, -1)}` } })).status, 401);
      const allowed = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(allowed.status, 200);
      assert.match(await allowed.text(), /ferry_process_resident_memory_bytes/);
    } finally {
      await ferry.stop();
      removeDataDir(ferry.dataDir);
    }
  });
});

describe('cookies behind a TLS-terminating proxy', () => {
  /**
   * Ferry and oidc-provider mark cookies Secure when the request is (ctx.secure): behind a proxy
   * that is X-Forwarded-Proto, trusted only with trustProxy. The issuer is https; the test talks
   * plain HTTP to the port, as the proxy would.
   */
  async function cookiesOf(options: { trustProxy: boolean; proto?: string }) {
    const port = await freePort();
    const issuer = `https://127.0.0.1:${port}`;
    const ferry = await startFerry({ port, issuer, trustProxy: options.trustProxy });
    const direct = `http://127.0.0.1:${port}`;
    try {
      const browser = new Browser(options.proto ? { 'x-forwarded-proto': options.proto } : {});
      const local = (url: string) => url.replace(issuer, direct);
      const follow = async (page: Page): Promise<Page> => {
        const location = page.headers.get('location');
        if (!location || location.startsWith(ferry.redirectUri)) return page;
        return follow(await browser.request(local(new URL(location, page.url).href)));
      };
      const authorize = new URL(`${direct}/auth`);
      for (const [name, value] of Object.entries({
        client_id: TEST_CLIENT.client_id,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: ferry.redirectUri,
        state: 'tls',
        code_challenge: 'c'.repeat(43),
        code_challenge_method: 'S256',
      }))
        authorize.searchParams.set(name, value);
      const login = await follow(await browser.request(authorize.href));
      const register = await browser.get(`${direct}${new URL(login.url).pathname}/register`);
      const form = findForm(register, '/register');
      const registered = await browser.request(local(new URL(form.action, register.url).href), {
        form: { ...form.fields, email: 'tls@example.com', password: 'a fine passphrase', password_confirm: 'a fine passphrase' },
      });
      const consent = await follow(registered);
      const allow = findForm(consent, '/confirm');
      const done = await follow(await browser.request(local(new URL(allow.action, consent.url).href), { form: allow.fields }));
      assert.ok(done.headers.get('location')?.startsWith(ferry.redirectUri), `signed in: ${done.status} ${done.headers.get('location')}`);
      return { cookies: browser.setCookies.filter((line) => !/=;/.test(line)), hsts: login.headers.get('strict-transport-security') };
    } finally {
      await ferry.stop();
      removeDataDir(ferry.dataDir);
    }
  }

  it('sets every cookie Secure (and sends HSTS) when the trusted proxy says the request came over https', async () => {
    const { cookies, hsts } = await cookiesOf({ trustProxy: true, proto: 'https' });
    for (const name of ['_interaction=', '_session=', 'ferry.csrf='])
      assert.ok(
        cookies.some((line) => line.startsWith(name)),
        `${name} in ${cookies.join('\n')}`,
      );
    for (const cookie of cookies) assert.match(cookie, /;\s*secure/i, cookie);
    assert.match(hsts ?? '', /max-age=\d+/);
  });

  it('does not take X-Forwarded-Proto from a client without trustProxy', async () => {
    const { cookies, hsts } = await cookiesOf({ trustProxy: false, proto: 'https' });
    assert.ok(cookies.length > 0);
    for (const cookie of cookies) assert.doesNotMatch(cookie, /;\s*secure/i, cookie);
    assert.equal(hsts, null);
  });
});
