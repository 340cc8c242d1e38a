import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser as Chromium, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { freePort, removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';

const CLIENT_ID = 'form-post-app';
const PASSWORD = 'a passphrase for the browser';

/** A relying party on its own origin that records what reaches its callback and its signed-out page. */
async function startRelyingParty() {
  const received: { method: string; path: string; body: URLSearchParams }[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://rp');
      received.push({ method: req.method ?? '', path: url.pathname, body: req.method === 'POST' ? new URLSearchParams(raw) : url.searchParams });
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>relying party</title><p>arrived</p>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { origin, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * CSP violations as the browser reports them: the `securitypolicyviolation` event (through a
 * binding, which outlives the page's navigation) and Chromium's console line about it.
 */
async function watchCsp(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding('reportCspViolation', (_source, text: string) => void violations.push(text));
  // Source text: it runs in the page, which this file's types (Node's) do not describe.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) =>
      window.reportCspViolation(event.violatedDirective + ' blocked ' + event.blockedURI + ' on ' + event.documentURI));`,
  });
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

describe('oidc-provider auto-submit pages under Ferry CSP, in a real browser', () => {
  let rp: Awaited<ReturnType<typeof startRelyingParty>>;
  let ferry: TestFerry;
  let chromium: Chromium | undefined;

  before(async () => {
    rp = await startRelyingParty();
    const port = await freePort();
    ferry = await startFerry({
      port,
      issuer: `http://127.0.0.1:${port}`,
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: 'form-post-app-secret-that-is-long-enough',
          redirect_uris: [`${rp.origin}/cb`],
          post_logout_redirect_uris: [`${rp.origin}/signed-out`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          skip_consent: true,
        },
      ],
    });
  });
  after(async () => {
    await chromium?.close();
    await ferry?.stop();
    await rp?.close();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const authorizeUrl = (state: string, extra: Record<string, string> = {}) => {
    const url = new URL(`${ferry.issuer}/auth`);
    // The code is never redeemed here: any S256 challenge will do (PKCE is required of every client).
    const params = {
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid email',
      redirect_uri: `${rp.origin}/cb`,
      response_mode: 'form_post',
      state,
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
      ...extra,
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.href;
  };

  /** Waits until the relying party has received a request on `path` beyond the first `seen`. */
  const arrivedAt = async (page: Page, path: string, seen: number, timeout = 30_000) => {
    await page.waitForURL(`${rp.origin}${path}**`, { timeout });
    const request = rp.received.slice(seen).find((entry) => entry.path === path);
    assert.ok(request, `nothing reached ${path}: ${JSON.stringify(rp.received.slice(seen).map((entry) => entry.path))}`);
    return request;
  };

  const register = async (page: Page, email: string, state: string) => {
    await page.goto(authorizeUrl(state));
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
  };

  it('posts the authorization response to the relying party (response_mode=form_post) with its inline script allowed by hash only', async (t) => {
    chromium = await launchChromium(t);
    if (!chromium) return;
    const context = await chromium.newContext();
    const violations = await watchCsp(context);
    const page = await context.newPage();
    let autoSubmitCsp: string | undefined;
    page.on('response', (response) => {
      if (response.url().startsWith(`${ferry.issuer}/auth/`)) autoSubmitCsp = response.headers()['content-security-policy'];
    });
    const seen = rp.received.length;

    await register(page, 'form-post@example.com', 'state-form-post');
    const callback = await arrivedAt(page, '/cb', seen);

    assert.equal(callback.method, 'POST', 'the auto-submit form posted it');
    assert.ok(callback.body.get('code'), 'an authorization code arrived');
    assert.equal(callback.body.get('state'), 'state-form-post');
    assert.deepEqual(violations, []);
    assert.match(autoSubmitCsp ?? '', /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, 'the page allowed its own script by hash');
    assert.doesNotMatch(autoSubmitCsp ?? '', /unsafe-inline|nonce-/);
    await context.close();
  });

  it('signs out at /session/end without a session, and with one, back to the relying party', async (t) => {
    chromium ??= await launchChromium(t);
    if (!chromium) return;
    const context = await chromium.newContext();
    const violations = await watchCsp(context);
    const page = await context.newPage();
    const logoutUrl = `${ferry.issuer}/session/end?client_id=${CLIENT_ID}&post_logout_redirect_uri=${encodeURIComponent(`${rp.origin}/signed-out`)}&state=bye`;

    // No session: oidc-provider answers with its auto-submitting form (end_session.js).
    let seen = rp.received.length;
    await page.goto(logoutUrl);
    const withoutSession = await arrivedAt(page, '/signed-out', seen);
    assert.equal(withoutSession.body.get('state'), 'bye');

    // With a session: Ferry's own confirmation page, then the same end.
    seen = rp.received.length;
    await register(page, 'leaves@example.com', 'state-leaves');
    await arrivedAt(page, '/cb', seen);
    seen = rp.received.length;
    await page.goto(logoutUrl);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    const withSession = await arrivedAt(page, '/signed-out', seen);
    assert.equal(withSession.body.get('state'), 'bye');
    assert.deepEqual(violations, []);
    await context.close();
  });

  it('signs the first account out on its own when another account signs in in the same browser (resume)', async (t) => {
    chromium ??= await launchChromium(t);
    if (!chromium) return;
    const elsewhere = await chromium.newContext();
    const other = await elsewhere.newPage();
    let seen = rp.received.length;
    await register(other, 'second@example.com', 'state-second');
    await arrivedAt(other, '/cb', seen);
    await elsewhere.close();
    const context = await chromium.newContext();
    const violations = await watchCsp(context);
    const page = await context.newPage();
    seen = rp.received.length;
    await register(page, 'first@example.com', 'state-first');
    await arrivedAt(page, '/cb', seen);

    // Signed in as first@, someone signs in as second@: oidc-provider ends the first session
    // through an auto-submitting form (authorization/resume.js) before it answers.
    const confirmed = page.waitForResponse((response) => response.url() === `${ferry.issuer}/session/end/confirm` && response.request().method() === 'POST');
    seen = rp.received.length;
    await page.goto(authorizeUrl('state-switch', { prompt: 'login' }));
    await page.getByLabel('Email, phone or username').fill('second@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    await t.test('the logout form submits itself under the CSP', async () => {
      assert.equal((await confirmed).status(), 303, 'the form reached /session/end/confirm');
      await page.waitForLoadState();
      assert.deepEqual(violations, []);
    });
    await t.test('the sign-in then reaches the relying party', async () => {
      const callback = await arrivedAt(page, '/cb', seen, 10_000);
      assert.equal(callback.body.get('state'), 'state-switch');
      assert.ok(callback.body.get('code'));
    });
    await context.close();
  });
});
