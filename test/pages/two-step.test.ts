import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcrypt';
import * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { authorizationUrl, beginAuthorization, consentIfAsked, ferryForSuite, registerThroughForm } from '../helpers/relying-party.ts';

const USER = { email: 'tess@example.com', password: 'tess own password' };

/** The authenticator app: codes for the secret shown on the enrolment page, `steps` of 30 s from now. */
const app =
  (secret: string) =>
  (steps = 0) =>
    new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });

describe('two-step verification (TOTP and recovery codes)', () => {
  const suite = ferryForSuite({ adminToken: ADMIN_TOKEN });

  /** Password in a new browser; the page after it (the code form when a second factor is on). */
  const password = async () => {
    const browser = new Browser();
    const { page, checks } = await beginAuthorization(suite.ferry, suite.rp, browser, { scope: 'openid email' });
    const next = await browser.submit(page, '/login', { identifier: USER.email, password: USER.password }, suite.ferry.redirectUri);
    return { browser, next, checks };
  };
  const tokensFrom = (page: Page, checks: Parameters<typeof oidc.authorizationCodeGrant>[2]) =>
    oidc.authorizationCodeGrant(suite.rp, new URL(page.url), checks);

  it('is turned on with a first code from the app, then asked after the password; amr says how the person signed in', async () => {
    const browser = new Browser();
    await registerThroughForm(suite.ferry, suite.rp, browser, USER);
    const before = await password();
    assert.ok(before.next.url.startsWith(suite.ferry.redirectUri), 'no second factor yet');
    assert.deepEqual((await tokensFrom(before.next, before.checks)).claims()!.amr, ['pwd']);

    const enrol = await browser.get(`${suite.ferry.issuer}/account/two-step`);
    assert.equal(enrol.status, 200);
    assert.match(enrol.html, /<svg[^>]*>.*<path/s, 'a QR code drawn in the page, no external image');
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1]!;
    const codes = app(secret);
    assert.equal((await browser.get(`${suite.ferry.issuer}/account/two-step`)).html.includes(secret), true, 'a reload keeps the secret being enrolled');

    const wrong = await browser.submit(enrol, '/account/two-step/confirm', { code: '000000' === codes() ? '111111' : '000000' });
    assert.equal(wrong.status, 400);
    // Each code is kept as typed: computed again later it could belong to the next 30-second step.
    const confirming = codes();
    const on = await browser.submit(enrol, '/account/two-step/confirm', { code: confirming });
    assert.equal(on.status, 200);
    const recovery = [...on.html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
    assert.equal(recovery.length, 10);
    assert.equal(new Set(recovery).size, 10);
    assert.match((await browser.get(`${suite.ferry.issuer}/account`)).html, /id="two-step-status">On</);
    const stored = await suite.ferry.ferry.db.query<{ code_hash: string }>('select code_hash from recovery_codes');
    assert.ok(!stored.rows.some((row) => recovery.some((code) => row.code_hash.includes(code.replace('-', '')))), 'only hashes are stored');

    // The password alone no longer signs in: the code form comes instead of the redirect.
    const held = await password();
    assert.ok(!held.next.url.startsWith(suite.ferry.redirectUri));
    assert.match(held.next.html, /action="\/interaction\/[^"]+\/two-step"/);
    const refused = await held.browser.submit(held.next, '/two-step', { code: confirming }, suite.ferry.redirectUri);
    assert.equal(refused.status, 400, 'the code used to turn it on does not work again');
    const next = codes(1);
    const done = await held.browser.submit(held.next, '/two-step', { code: next }, suite.ferry.redirectUri);
    assert.ok(done.url.startsWith(suite.ferry.redirectUri), done.html.slice(0, 300));
    assert.deepEqual((await tokensFrom(done, held.checks)).claims()!.amr, ['pwd', 'otp', 'mfa']);

    // A code the form of another sign-in has taken is refused; a recovery code works once.
    const again = await password();
    assert.equal((await again.browser.submit(again.next, '/two-step', { code: next })).status, 400);
    const recovered = await again.browser.submit(again.next, '/two-step', { code: recovery[0]!.toUpperCase() }, suite.ferry.redirectUri);
    assert.deepEqual((await tokensFrom(recovered, again.checks)).claims()!.amr, ['pwd', 'mfa']);
    const reused = await password();
    assert.equal((await reused.browser.submit(reused.next, '/two-step', { code: recovery[0]! })).status, 400);

    // The form cannot be used without the password having been right in that browser.
    const stranger = new Browser();
    const { page: login } = await beginAuthorization(suite.ferry, suite.rp, stranger);
    const forged = await stranger.request(`${new URL(login.url).href}/two-step`, {
      method: 'POST',
      form: { csrf: /name="csrf" value="([^"]+)"/.exec(login.html)![1]!, code: recovery[1]! },
    });
    assert.equal(forged.status, 400);
    assert.doesNotMatch(forged.html, /id="form-error"[^<]*not right/);

    // Turning it off asks for a code; then the password alone signs in again.
    const manage = await browser.get(`${suite.ferry.issuer}/account/two-step`);
    assert.equal((await browser.submit(manage, '/account/two-step/off', { code: 'nope' })).status, 400);
    const off = await browser.submit(manage, '/account/two-step/off', { code: recovery[2]! });
    assert.match(off.html, /id="two-step-off"/);
    const after = await password();
    assert.ok(after.next.url.startsWith(suite.ferry.redirectUri));
  });

  it('ends the account’s other sessions, not this one, when turned off or given new recovery codes; both audited', async () => {
    const user = { email: 'sessions@example.com', password: 'sessions own password' };
    const home = new Browser();
    const registered = await registerThroughForm(suite.ferry, suite.rp, home, user);
    const sub = (await tokensFrom(registered.result, registered.checks)).claims()!.sub;
    const enrol = await home.get(`${suite.ferry.issuer}/account/two-step`);
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1]!;
    const on = await home.submit(enrol, '/account/two-step/confirm', { code: app(secret)() });
    const recoveryOf = (page: Page) => [...page.html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
    const first = recoveryOf(on);

    /** Password and a recovery code in another browser: a second session, with its refresh token. */
    const elsewhere = async (code: string) => {
      const away = new Browser();
      const { page, checks } = await beginAuthorization(suite.ferry, suite.rp, away);
      const form = await away.submit(page, '/login', { identifier: user.email, password: user.password }, suite.ferry.redirectUri);
      const done = await consentIfAsked(suite.ferry, away, await away.submit(form, '/two-step', { code }, suite.ferry.redirectUri));
      const tokens = await tokensFrom(done, checks);
      assert.ok(tokens.refresh_token, 'a refresh token bound to that session');
      assert.equal((await away.get(`${suite.ferry.issuer}/account`)).status, 200);
      return { away, tokens };
    };
    const endedThere = async ({ away, tokens }: Awaited<ReturnType<typeof elsewhere>>) => {
      assert.equal((await away.get(`${suite.ferry.issuer}/account`)).status, 401, 'the other browser is signed out');
      await assert.rejects(oidc.refreshTokenGrant(suite.rp, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
      assert.equal((await home.get(`${suite.ferry.issuer}/account`)).status, 200, 'this browser stays signed in');
    };

    const before = await elsewhere(first[0]!);
    const replaced = await home.submit(await home.get(`${suite.ferry.issuer}/account/two-step`), '/account/two-step/recovery-codes', { code: first[1]! });
    assert.equal(replaced.status, 200);
    assert.match(replaced.html, /your other browsers were signed out/);
    const second = recoveryOf(replaced);
    assert.equal(second.length, 10);
    await endedThere(before);

    const again = await elsewhere(second[0]!);
    const off = await home.submit(await home.get(`${suite.ferry.issuer}/account/two-step`), '/account/two-step/off', { code: second[1]! });
    assert.match(off.html, /id="two-step-off"/);
    await endedThere(again);

    const items = (await adminClient(suite.ferry).get(`/audit?subject=${encodeURIComponent(sub)}&type=second-factor.`)).body.items as {
      type: string;
      actor: string;
      detail: Record<string, unknown>;
    }[];
    assert.deepEqual(
      items.map((event) => [event.type, event.actor, event.detail.sessionsEnded]),
      [
        ['second-factor.off', 'user', 1],
        ['second-factor.recovery-codes', 'user', 1],
        ['second-factor.on', 'user', undefined],
      ],
    );
  });

  it('asks for the code in a form usable with the keyboard alone in Chromium', async (t) => {
    const chromium = await launchChromium(t);
    if (!chromium) return;
    const user = { email: 'keys@example.com', password: 'keys own password' };
    const browser = new Browser();
    await registerThroughForm(suite.ferry, suite.rp, browser, user);
    const enrol = await browser.get(`${suite.ferry.issuer}/account/two-step`);
    const codes = app(/id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1]!);
    assert.equal((await browser.submit(enrol, '/account/two-step/confirm', { code: codes() })).status, 200);
    try {
      const page = await (await chromium.newContext()).newPage();
      await page.goto(await authorizationUrl(suite.ferry, suite.rp));
      await page.locator('#identifier:focus').waitFor();
      await page.keyboard.type(user.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(user.password);
      await page.keyboard.press('Enter');
      await page.locator('#code').waitFor();
      // From the top of the page, not the field's autofocus: Tab reaches the field.
      await page.evaluate('document.activeElement.blur()');
      for (let i = 0; i < 10 && (await page.locator('#code:focus').count()) === 0; i++) await page.keyboard.press('Tab');
      assert.equal(await page.locator('#code:focus').count(), 1, 'the code field is reached with Tab');
      // The next step's code, computed now: the step the enrolment used is taken, and the server accepts one step either side of its own.
      await page.keyboard.type(codes(1));
      const form = page.url();
      await page.keyboard.press('Enter');
      await page.waitForURL((target) => target.href !== form);
      assert.equal(await page.locator('#form-error').count(), 0, 'the code was taken');
      // A first sign-in to this application from a new browser may ask for consent: Allow has the focus.
      if ((await page.locator('form[action$="/confirm"]').count()) > 0) await page.keyboard.press('Enter');
      await page.waitForURL((target) => target.href.startsWith(suite.ferry.redirectUri));
      assert.ok(new URL(page.url()).searchParams.get('code'), 'back at the application with a code');
    } finally {
      await chromium.close();
    }
  });

  it('is removed by an administrator for a user who lost their phone: the password alone signs in, and old sessions end', async () => {
    const user = { email: 'lost@example.com', password: 'lost own password' };
    const browser = new Browser();
    const registered = await registerThroughForm(suite.ferry, suite.rp, browser, user);
    const tokens = await tokensFrom(registered.result, registered.checks);
    const enrol = await browser.get(`${suite.ferry.issuer}/account/two-step`);
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1]!;
    assert.equal((await browser.submit(enrol, '/account/two-step/confirm', { code: app(secret)() })).status, 200);

    const api = adminClient(suite.ferry);
    assert.equal((await api.delete('/users/no-such-user/second-factors')).status, 404);
    const reset = await api.delete(`/users/${encodeURIComponent(tokens.claims()!.sub)}/second-factors`);
    assert.equal(reset.status, 200);
    assert.deepEqual(reset.body, { removed: 1 });
    await assert.rejects(oidc.refreshTokenGrant(suite.rp, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
    const fresh = new Browser();
    const { page } = await beginAuthorization(suite.ferry, suite.rp, fresh, { scope: 'openid email' });
    const next = await fresh.submit(page, '/login', { identifier: user.email, password: user.password }, suite.ferry.redirectUri);
    assert.doesNotMatch(next.html, /\/two-step"/, 'no code asked any more');
    // Its consent went with its sessions: asked again, then back to the application.
    assert.ok((await consentIfAsked(suite.ferry, fresh, next)).url.startsWith(suite.ferry.redirectUri));
  });

  it('goes with the user when an administrator deletes them', async () => {
    const browser = new Browser();
    const user = { email: 'gone@example.com', password: 'gone own password' };
    const registered = await registerThroughForm(suite.ferry, suite.rp, browser, user);
    const sub = (await tokensFrom(registered.result, registered.checks)).claims()!.sub;
    const enrol = await browser.get(`${suite.ferry.issuer}/account/two-step`);
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1]!;
    assert.equal((await browser.submit(enrol, '/account/two-step/confirm', { code: app(secret)() })).status, 200);
    const factors = async () =>
      (
        await suite.ferry.ferry.db.query<{ n: number }>(
          'select (select count(*) from second_factors where sub = $1) + (select count(*) from recovery_codes where sub = $1) as n',
          [sub],
        )
      ).rows[0]!.n;
    assert.equal(Number(await factors()), 11);
    assert.equal((await adminClient(suite.ferry).delete(`/users/${encodeURIComponent(sub)}`)).status, 204);
    assert.equal(Number(await factors()), 0);
  });
});

describe('second factors carried over from the legacy system (totpSecret)', () => {
  // The legacy login script answers one user, with the TOTP secret their authenticator app already holds.
  const scripts = mkdtempSync(join(tmpdir(), 'ferry-totp-scripts-'));
  const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  writeFileSync(
    join(scripts, 'login.js'),
    `async function login(query, password) {
      if (query.email !== 'lazy@example.com') throw new Error('User not exists!');
      if (password !== 'lazy legacy password') throw new Error('Password is not valid!');
      return { id: 'lazy-1', email: query.email, name: 'Lazy', totpSecret: '${SECRET.toLowerCase().match(/.{4}/g)!.join(' ')}' };
    }`,
  );
  const suite = ferryForSuite({ adminToken: ADMIN_TOKEN, connection: { enabled: true, mode: 'LAZY_MIGRATION', scriptsDir: scripts } });
  after(() => rmSync(scripts, { recursive: true, force: true }));

  /** Password in a new browser, then the code form with a code of the carried-over secret. */
  const signInWithApp = async (email: string, password: string) => {
    const browser = new Browser();
    const { page, checks } = await beginAuthorization(suite.ferry, suite.rp, browser, { scope: 'openid email profile' });
    const form = await browser.submit(page, '/login', { identifier: email, password }, suite.ferry.redirectUri);
    assert.match(form.html, /action="\/interaction\/[^"]+\/two-step"/, 'the code form, not the application');
    // First sign-ins to this application: the consent page follows the code.
    const done = await consentIfAsked(suite.ferry, browser, await browser.submit(form, '/two-step', { code: app(SECRET)() }, suite.ferry.redirectUri));
    return (await oidc.authorizationCodeGrant(suite.rp, new URL(done.url), checks)).claims()!;
  };
  const profileOf = async (legacyId: string) =>
    (await suite.ferry.ferry.db.query<{ profile: Record<string, unknown> }>('select profile from accounts where legacy_id = $1', [legacyId])).rows[0]?.profile;

  it('a bulk import keeps the user’s authenticator app, and a secret that is not base32 is an error naming the record', async () => {
    const answer = await adminClient(suite.ferry).post('/users/import', {
      users: [
        { id: 'imp-1', email: 'imp@example.com', passwordHash: await bcrypt.hash('imp legacy password', 10), totpSecret: SECRET },
        { id: 'imp-2', email: 'bad@example.com', passwordHash: await bcrypt.hash('bad legacy password', 10), totpSecret: 'not base32!' },
      ],
    });
    assert.equal(answer.body.created, 1);
    assert.equal(answer.body.failed[0].id, 'imp-2');
    assert.match(answer.body.failed[0].error, /totpSecret must be a base32 TOTP secret/);
    assert.equal(await profileOf('imp-2'), undefined, 'nothing was made of the refused record');
    assert.equal((await profileOf('imp-1'))!.totpSecret, undefined, 'the secret is not a profile field (nor a claim)');
    assert.deepEqual((await signInWithApp('imp@example.com', 'imp legacy password')).amr, ['pwd', 'otp', 'mfa']);
  });

  it('a lazy migration carries the secret the login script returns: the first sign-in already asks for the code', async () => {
    const claims = await signInWithApp('lazy@example.com', 'lazy legacy password');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.totpSecret, undefined);
    assert.equal((await profileOf('lazy-1'))!.totpSecret, undefined);
  });
});
