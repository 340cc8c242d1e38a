import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { checkPasswordPolicy, isCommonPassword, MAX_PASSWORD_LENGTH } from '../../src/accounts/passwords.ts';
import { Browser, alertText, findForm } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
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
    ferry = await startFerry();
    config = await relyingParty(ferry);
    await registerThroughForm(ferry, config, new Browser(), { email: 'leaver@example.com', password: 'a fine passphrase' });
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  it('sends security headers and a CSP without inline script on every page', async () => {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.doesNotMatch(page.html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline <script>');
    assert.doesNotMatch(page.html, /\sstyle=|<style/, 'no inline style');
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

  it('refuses a form posted without its CSRF token, or with another browser\'s', async () => {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    const form = findForm(page, '/login');
    const missing = await browser.request(new URL(form.action, page.url).href, { form: { identifier: 'x@example.com', password: 'whatever pw' } });
    assert.equal(missing.status, 403);
    assert.match(alertText(missing) ?? '', /expired or was not sent from this site/);

    const other = new Browser();
    const { page: otherPage } = await beginAuthorization(ferry, config, other);
    const forged = await browser.request(new URL(form.action, page.url).href, { form: { ...findForm(page, '/login').fields, csrf: findForm(otherPage, '/login').fields.csrf!, identifier: 'x@example.com', password: 'p' } });
    assert.equal(forged.status, 403);
  });

  it('refuses a common password at registration', async () => {
    const { result } = await registerThroughForm(ferry, config, new Browser(), { email: 'common@example.com', password: 'iloveyou1' });
    assert.equal(result.status, 400);
    assert.match(alertText(result) ?? '', /commonly used/);
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
