import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser, alertText, type Page } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn, authorizationUrl } from '../helpers/relying-party.ts';
import mysql from 'mysql2/promise';
import { MYSQL_ADMIN, postgresReachable } from '../helpers/services.ts';
import { startSmtpServer } from '../helpers/smtp.ts';
import { launchChromium } from '../helpers/chromium.ts';

const LEGACY_USERS = [
  { email: 'alice@example.com', username: 'alice', name: 'Alice Liddell', password: 'alice-legacy-pw' },
  { email: 'bob@example.com', username: 'bob', name: 'Bob Kahn', password: 'bob-legacy-pw' },
  { email: 'carol@example.com', username: 'carol', name: 'Carol Shaw', password: 'carol-legacy-pw' },
];
const LOCAL = { email: 'lena@example.com', password: 'lena first password' };

type Setup = { ferry: TestFerry; rp: oidc.Configuration; smtp: Awaited<ReturnType<typeof startSmtpServer>> };

/** The hosted pages and the mailbox, as a person who forgot their password uses them. */
function resetPages(setup: () => Setup) {
  /** From a new sign-in's login page, through its "Forgot password?" link, to the answer of the request form. */
  const requestReset = async (browser: Browser, identifier: string): Promise<Page> => {
    const { ferry, rp } = setup();
    const { page } = await beginAuthorization(ferry, rp, browser);
    const href = /<a href="([^"]+)">Forgot password\?<\/a>/.exec(page.html)?.[1];
    assert.ok(href, 'the login page links to "Forgot password?"');
    const form = await browser.get(new URL(href, page.url).href);
    assert.equal(form.status, 200);
    return browser.submit(form, '/forgot', { identifier });
  };
  const mailsTo = (address: string) => setup().smtp.received.filter((mail) => mail.to.includes(address));
  const nextMail = async (address: string, subject: string, after: number) => {
    await setup().smtp.waitFor((mail) => mail.to.includes(address) && mail.subject === subject && mailsTo(address).indexOf(mail) >= after);
    return mailsTo(address)
      .filter((mail) => mail.subject === subject)
      .at(-1)!;
  };
  const linkIn = (text: string) => {
    const link = /(http\S+\/account\/reset\?token=[A-Za-z0-9_-]+)/.exec(text)?.[1];
    assert.ok(link, `a reset link in the mail:\n${text}`);
    return link;
  };
  const openLink = async (browser: Browser, link: string) => browser.get(link);
  const setPassword = (browser: Browser, page: Page, password: string, confirm = password) =>
    browser.submit(page, '/account/reset', { password, password_confirm: confirm });

  return { requestReset, mailsTo, nextMail, linkIn, openLink, setPassword };
}

/** A legacy user who never signed in asks for a link, sets a password, and is migrated with it under their legacy subject. */
async function resetsUnmigrated(pages: ReturnType<typeof resetPages>, setup: Setup, legacy: LegacyDatabase, user: (typeof LEGACY_USERS)[number]) {
  const { ferry, rp } = setup;
  const param = legacy.kind === 'postgres' ? '$1' : '?';
  const [row] = await legacy.query(`select id from users where email = ${param}`, [user.email]);
  const migrated = async () =>
    (await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts where legacy_id = $1', [String(row!.id)])).rows[0]!.n;
  assert.equal(await migrated(), 0);

  const sent = pages.mailsTo(user.email).length;
  const answer = await pages.requestReset(new Browser(), user.email.toUpperCase());
  assert.match(answer.html, /id="reset-sent"/);
  const link = pages.linkIn((await pages.nextMail(user.email, 'Reset your password', sent)).text);
  assert.equal(await migrated(), 0, 'asking for a link migrates nobody');

  const browser = new Browser();
  const done = await pages.setPassword(browser, await pages.openLink(browser, link), `${user.username} chose this in Ferry`);
  assert.match(done.html, /id="reset-done"/);
  assert.equal(await migrated(), 1);
  await pages.nextMail(user.email, 'Your password was changed', sent);

  const tokens = await signIn(ferry, rp, new Browser(), user.username, `${user.username} chose this in Ferry`);
  assert.equal(tokens.claims()!.sub, String(row!.id), 'the subject a first sign-in would have given');
  assert.equal(tokens.claims()!.name, user.name);
  const stale = new Browser();
  const { page } = await beginAuthorization(ferry, rp, stale);
  assert.equal((await stale.submit(page, '/login', { identifier: user.email, password: user.password })).status, 401, 'the legacy password no longer signs in');
}

describe('forgot password, through the hosted pages and a real SMTP server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let rp: oidc.Configuration;

  before(async () => {
    await postgresReachable();
    smtp = await startSmtpServer();
    legacy = await createLegacyDatabase('postgres', LEGACY_USERS);
    ferry = await startFerry({
      adminToken: ADMIN_TOKEN,
      mail: { smtpUrl: smtp.url, from: 'no-reply@ferry.test', pollIntervalMs: 100 },
      // Every request of this suite comes from 127.0.0.1: only the per-identifier count is under test.
      passwordReset: { throttle: { ip: { freeFailures: 1000 } } },
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    });
    rp = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await smtp?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const { requestReset, mailsTo, nextMail, linkIn, openLink, setPassword } = resetPages(() => ({ ferry, rp, smtp }));
  it("resets a local user's password once, signs them out everywhere and tells them by mail", async () => {
    // With mail on, registration answers "check your email" (issue #14): the new account then signs in.
    await registerThroughForm(ferry, rp, new Browser(), { email: LOCAL.email, password: LOCAL.password });
    const before = await signIn(ferry, rp, new Browser(), LOCAL.email, LOCAL.password);
    assert.ok(before.refresh_token);

    const sent = mailsTo(LOCAL.email).length;
    const answer = await requestReset(new Browser(), LOCAL.email);
    assert.equal(answer.status, 200);
    assert.match(answer.html, /id="reset-sent"/);
    const mail = await nextMail(LOCAL.email, 'Reset your password', sent);
    const link = linkIn(mail.text);
    assert.equal(new URL(link).searchParams.get('token')!.length, 43, '256 bits, base64url');
    assert.match(mail.html, /Choose a new password/);

    // Another browser (the mail app's) opens the link: the token moves into a cookie, out of the address bar.
    const browser = new Browser();
    const form = await openLink(browser, link);
    assert.equal(new URL(form.url).search, '');
    assert.equal(form.status, 200);

    const common = await setPassword(browser, form, 'password123');
    assert.equal(common.status, 400);
    assert.match(alertText(common) ?? '', /commonly used/);
    const mismatch = await setPassword(browser, form, 'lena second password', 'something else');
    assert.equal(mismatch.status, 400);

    const done = await setPassword(browser, form, 'lena second password');
    assert.equal(done.status, 200);
    assert.match(done.html, /id="reset-done"/);
    const changed = await nextMail(LOCAL.email, 'Your password was changed', sent);
    assert.match(changed.text, /signed out everywhere/);

    await assert.rejects(oidc.refreshTokenGrant(rp, before.refresh_token!), { error: 'invalid_grant' }, 'tokens issued before the reset are revoked');
    const after = await signIn(ferry, rp, new Browser(), LOCAL.email, 'lena second password');
    assert.ok(after.claims()!.sub);
    const stale = new Browser();
    const { page } = await beginAuthorization(ferry, rp, stale);
    const refused = await stale.submit(page, '/login', { identifier: LOCAL.email, password: LOCAL.password });
    assert.equal(refused.status, 401, 'the old password no longer signs in');

    // Single use: the same link, in a fresh browser, no longer opens the form.
    const reused = await openLink(new Browser(), link);
    assert.equal(reused.status, 400);
    assert.match(reused.html, /id="reset-invalid"/);
  });

  it("resets a migrated user's password in Ferry", async () => {
    await signIn(ferry, rp, new Browser(), 'alice', 'alice-legacy-pw');
    const sent = mailsTo('alice@example.com').length;
    await requestReset(new Browser(), 'alice');
    const link = linkIn((await nextMail('alice@example.com', 'Reset your password', sent)).text);
    const browser = new Browser();
    const done = await setPassword(browser, await openLink(browser, link), 'alice new ferry password');
    assert.match(done.html, /id="reset-done"/);
    const tokens = await signIn(ferry, rp, new Browser(), 'alice@example.com', 'alice new ferry password');
    const [row] = await legacy.query('select id from users where email = $1', ['alice@example.com']);
    assert.equal(tokens.claims()!.sub, String(row!.id), 'the same subject as before the reset');
  });

  it('migrates a PostgreSQL lazy-migration user who never signed in, with the new password', async () => {
    await resetsUnmigrated(
      resetPages(() => ({ ferry, rp, smtp })),
      { ferry, rp, smtp },
      legacy,
      LEGACY_USERS[1]!,
    );
  });

  it("fails closed when another account took the unmigrated user's email address before the reset", async () => {
    const sent = mailsTo('carol@example.com').length;
    await requestReset(new Browser(), 'carol');
    const link = linkIn((await nextMail('carol@example.com', 'Reset your password', sent)).text);
    await registerThroughForm(ferry, rp, new Browser(), { email: 'dora@example.com', password: 'dora own password' });
    await legacy.query(`update users set email = 'dora@example.com' where username = 'carol'`);

    const browser = new Browser();
    const refused = await setPassword(browser, await openLink(browser, link), 'carol wants this one');
    assert.equal(refused.status, 409);
    assert.match(refused.html, /id="reset-conflict"/);
    const { rows } = await ferry.ferry.db.query<{ n: number }>(`select count(*)::int as n from accounts where username = 'carol'`);
    assert.equal(rows[0]!.n, 0, 'carol was not migrated');
    await signIn(ferry, rp, new Browser(), 'dora@example.com', 'dora own password');
  });

  it('works in Chromium with the keyboard alone, from the login page to signing in again', async (t) => {
    const chromium = await launchChromium(t);
    if (!chromium) return;
    try {
      await registerThroughForm(ferry, rp, new Browser(), { email: 'kim@example.com', password: 'kim first password' });
      const page = await (await chromium.newContext()).newPage();
      await page.goto(await authorizationUrl(ferry, rp));
      // Tab from the identifier field (focused on load) to the link.
      for (let i = 0; i < 8 && (await page.locator(':focus').textContent())?.trim() !== 'Forgot password?'; i++) await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/forgot$/);
      await page.locator('#identifier:focus').waitFor();
      const sent = mailsTo('kim@example.com').length;
      await page.keyboard.type('kim@example.com');
      await page.keyboard.press('Enter');
      await page.locator('#reset-sent').waitFor();

      await page.goto(linkIn((await nextMail('kim@example.com', 'Reset your password', sent)).text));
      assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
      // Typing starts once the page's autofocus has put the caret in the first field.
      await page.locator('#password:focus').waitFor();
      await page.keyboard.type('kim second password');
      await page.keyboard.press('Tab');
      await page.keyboard.type('kim second password');
      await page.keyboard.press('Enter');
      await page.locator('#reset-done, .alert').first().waitFor();
      assert.equal(await page.locator('.alert').count(), 0, await page.locator('main, body').first().innerText());
      assert.equal(await page.locator('#reset-done').count(), 1);
    } finally {
      await chromium.close();
    }
    await signIn(ferry, rp, new Browser(), 'kim@example.com', 'kim second password');
  });

  it('refuses an expired link', async () => {
    const sent = mailsTo(LOCAL.email).length;
    await requestReset(new Browser(), LOCAL.email);
    const link = linkIn((await nextMail(LOCAL.email, 'Reset your password', sent)).text);
    const browser = new Browser();
    const form = await openLink(browser, link);
    assert.equal(form.status, 200);
    await ferry.ferry.db.query(`update password_resets set expires_at = now() - interval '1 second' where used_at is null`);
    assert.match((await openLink(new Browser(), link)).html, /id="reset-invalid"/);
    const late = await setPassword(browser, form, 'lena third password');
    assert.equal(late.status, 400);
    assert.match(late.html, /id="reset-invalid"/);
    await signIn(ferry, rp, new Browser(), LOCAL.email, 'lena second password');
  });

  it('answers an unknown address with the same page and sends nothing', async () => {
    const unknown = await requestReset(new Browser(), 'nobody@example.com');
    const known = await requestReset(new Browser(), 'alice@example.com');
    const sent = mailsTo('alice@example.com').length;
    const withoutTokens = (page: Page) => page.html.replace(/name="csrf" value="[^"]*"/g, '').replace(/\/interaction\/[^/"]+/g, '/interaction/UID');
    assert.equal(unknown.status, known.status);
    assert.equal(withoutTokens(unknown), withoutTokens(known));
    await smtp.waitFor((mail) => mail.to.includes('alice@example.com') && mailsTo('alice@example.com').length > sent - 1);
    await ferry.ferry.mail.flush();
    await sleep(200);
    assert.equal(mailsTo('nobody@example.com').length, 0);
    const outbox = await adminClient(ferry).get('/mail/outbox?limit=200');
    assert.ok(!outbox.text.includes('nobody@example.com'), 'nothing queued for an unknown address');
  });

  it('throttles reset requests per identifier, the same way whether or not the account exists', async () => {
    const statuses = async (identifier: string) => {
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) seen.push((await requestReset(new Browser(), identifier)).status);
      return seen;
    };
    await registerThroughForm(ferry, rp, new Browser(), { email: 'tess@example.com', password: 'tess first password' });
    const known = await statuses('Tess@Example.com');
    const unknown = await statuses('ghost@example.com');
    assert.deepEqual(unknown, known);
    assert.equal(known.at(-1), 429);
  });
});

/**
 * Ferry with mail to a real SMTP server and a connection to a new legacy database holding `users`,
 * started before the suite's tests and stopped after them.
 */
function legacySetup(kind: 'postgres' | 'mysql', users: typeof LEGACY_USERS, mode: 'LAZY_MIGRATION' | 'CUSTOM_USER_STORE') {
  const setup = {} as Setup & { legacy: LegacyDatabase };
  before(async () => {
    if (kind === 'mysql') await (await mysql.createConnection(MYSQL_ADMIN)).end();
    else await postgresReachable();
    setup.smtp = await startSmtpServer();
    setup.legacy = await createLegacyDatabase(kind, users);
    setup.ferry = await startFerry({
      mail: { smtpUrl: setup.smtp.url, from: 'no-reply@ferry.test', pollIntervalMs: 100 },
      connection: { enabled: true, mode, env: { DB_CONNECTION_URI: setup.legacy.url }, scriptsDir: join(TEMPLATES, kind) },
    });
    setup.rp = await relyingParty(setup.ferry);
  });
  after(async () => {
    await setup.ferry?.stop();
    await setup.smtp?.stop();
    await setup.legacy?.drop();
    if (setup.ferry) removeDataDir(setup.ferry.dataDir);
  });
  return setup;
}

describe('forgot password for a MariaDB lazy-migration user who never signed in', () => {
  const setup = legacySetup('mysql', LEGACY_USERS.slice(1, 2), 'LAZY_MIGRATION');

  it('migrates them with the new password', async () => {
    await resetsUnmigrated(
      resetPages(() => setup),
      setup,
      setup.legacy,
      LEGACY_USERS[1]!,
    );
  });
});

describe('forgot password in a custom user store (PostgreSQL): the store’s updateUser takes the new password', () => {
  const setup = legacySetup('postgres', LEGACY_USERS.slice(2, 3), 'CUSTOM_USER_STORE');

  it('sets the password in the legacy database, keeps the user there, and signs them out everywhere', async () => {
    const { ferry, rp, legacy } = setup;
    const user = LEGACY_USERS[2]!;
    const pages = resetPages(() => setup);
    const hashOf = async () => String((await legacy.query('select password from users where email = $1', [user.email]))[0]!.password);
    const hashBefore = await hashOf();
    const before = await signIn(ferry, rp, new Browser(), user.email, user.password);

    const sent = pages.mailsTo(user.email).length;
    assert.match((await pages.requestReset(new Browser(), user.username)).html, /id="reset-sent"/);
    const link = pages.linkIn((await pages.nextMail(user.email, 'Reset your password', sent)).text);
    const browser = new Browser();
    const done = await pages.setPassword(browser, await pages.openLink(browser, link), 'carol chose this in the store');
    assert.match(done.html, /id="reset-done"/, alertText(done) ?? done.html.slice(0, 300));
    await pages.nextMail(user.email, 'Your password was changed', sent);

    assert.notEqual(await hashOf(), hashBefore, 'the legacy row holds a new hash');
    assert.match(await hashOf(), /^\$2[aby]\$/);
    const accounts = await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts');
    assert.equal(accounts.rows[0]!.n, 0, 'nobody was copied into Ferry: the store keeps its users');
    await assert.rejects(oidc.refreshTokenGrant(rp, before.refresh_token!), { error: 'invalid_grant' }, 'signed out everywhere');

    const tokens = await signIn(ferry, rp, new Browser(), user.email, 'carol chose this in the store');
    assert.equal(tokens.claims()!.sub, before.claims()!.sub, 'the same subject');
    const stale = new Browser();
    const { page } = await beginAuthorization(ferry, rp, stale);
    assert.equal((await stale.submit(page, '/login', { identifier: user.email, password: user.password })).status, 401);
    const reused = await pages.openLink(new Browser(), link);
    assert.equal(reused.status, 400, 'the link works once');
    assert.match(reused.html, /id="reset-invalid"/);
  });
});
