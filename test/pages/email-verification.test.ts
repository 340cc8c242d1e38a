import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcrypt';
import * as oidc from 'openid-client';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, completeLogin, registerThroughForm, relyingParty, signIn, ferryForSuite } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';
import { mailbox, type Smtp } from '../helpers/mailbox.ts';
import { startSmtpServer } from '../helpers/smtp.ts';

const VERIFY_SUBJECT = 'Confirm your email address';
const EXISTS_SUBJECT = 'You already have an account';

const accountsWithEmail = async (ferry: TestFerry, email: string) =>
  (await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts where email = $1', [email])).rows[0]!.n;

describe('email verification with mail on (a real SMTP server)', () => {
  let smtp: Smtp;
  let ferry: TestFerry;
  let rp: oidc.Configuration;
  const { mailsTo, next, linkIn, confirm } = mailbox(() => smtp);

  before(async () => {
    smtp = await startSmtpServer();
    ferry = await startFerry({ mail: { smtpUrl: smtp.url, from: 'no-reply@ferry.test', pollIntervalMs: 100 } });
    rp = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await smtp?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('registers with "check your email", and the mailed link makes email_verified true in the ID token and userinfo', async () => {
    const registered = await registerThroughForm(ferry, rp, new Browser(), { email: 'vera@example.com', password: 'vera own password' });
    assert.equal(registered.result.status, 200);
    assert.match(registered.result.html, /id="check-email"/, 'no sign-in yet: the page says to check the mail');

    const before = await signIn(ferry, rp, new Browser(), 'vera@example.com', 'vera own password');
    assert.equal(before.claims()!.email_verified, false);

    const mail = await next('vera@example.com', VERIFY_SUBJECT, 0);
    const link = linkIn(mail.text);
    assert.equal(new URL(link).searchParams.get('token')!.length, 43, '256 bits, base64url');
    assert.match(mail.html, /Confirm my email address/);
    const stored = await ferry.ferry.db.query<{ token_hash: string }>('select token_hash from email_verifications');
    assert.ok(!stored.rows.some((row) => row.token_hash.includes(new URL(link).searchParams.get('token')!)), 'only a hash is stored');

    // Opening the link (a mail scanner fetching it) verifies nothing; the button does.
    await new Browser().get(link);
    assert.equal((await signIn(ferry, rp, new Browser(), 'vera@example.com', 'vera own password')).claims()!.email_verified, false);
    const done = await confirm(link);
    assert.equal(done.status, 200);
    assert.match(done.html, /id="verify-done"/);

    const tokens = await signIn(ferry, rp, new Browser(), 'vera@example.com', 'vera own password');
    const claims = tokens.claims()!;
    assert.equal(claims.email, 'vera@example.com');
    assert.equal(claims.email_verified, true);
    const userinfo = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(userinfo.email_verified, true);
  });

  it('refuses a used link and an expired one, also from a page opened before', async () => {
    await registerThroughForm(ferry, rp, new Browser(), { email: 'ursula@example.com', password: 'ursula own password' });
    const link = linkIn((await next('ursula@example.com', VERIFY_SUBJECT, 0)).text);
    const earlier = new Browser();
    const openedBefore = await earlier.get(link);
    assert.equal((await confirm(link)).status, 200);
    const reused = await confirm(link);
    assert.equal(reused.status, 400);
    assert.match(reused.html, /id="verify-invalid"/);
    const racing = await earlier.submit(openedBefore, '/account/verify');
    assert.equal(racing.status, 400, 'the page opened before the link was used cannot use it again');

    await registerThroughForm(ferry, rp, new Browser(), { email: 'ed@example.com', password: 'ed own password' });
    const late = linkIn((await next('ed@example.com', VERIFY_SUBJECT, 0)).text);
    const keptOpen = new Browser();
    const openPage = await keptOpen.get(late);
    assert.equal(openPage.status, 200);
    await ferry.ferry.db.query(`update email_verifications set expires_at = now() - interval '1 second' where used_at is null`);
    const expired = await confirm(late);
    assert.equal(expired.status, 400);
    assert.match(expired.html, /id="verify-invalid"/);
    assert.equal((await keptOpen.submit(openPage, '/account/verify')).status, 400, 'a page kept open past expiry cannot use it');
    assert.equal((await signIn(ferry, rp, new Browser(), 'ed@example.com', 'ed own password')).claims()!.email_verified, false);
  });

  it('answers a taken address with the same page, mails its owner, and makes no second account', async () => {
    const fresh = await registerThroughForm(ferry, rp, new Browser(), { email: 'tom@example.com', password: 'tom own password' });
    await next('tom@example.com', VERIFY_SUBJECT, 0);
    const taken = await registerThroughForm(ferry, rp, new Browser(), { email: 'TOM@example.com', password: 'an intruder password' });

    assert.equal(taken.result.status, fresh.result.status);
    const body = (page: Page) => page.html.replace(/\/interaction\/[A-Za-z0-9_-]+/g, '/interaction/UID').replace(/value="[^"]*"/g, 'value=""');
    assert.equal(body(taken.result), body(fresh.result), 'the same page, byte for byte (but for the interaction and the CSRF token)');

    const notice = await next('tom@example.com', EXISTS_SUBJECT, 0);
    assert.match(notice.text, /already has one\. No second account was made/);
    assert.doesNotMatch(notice.text, /account\/verify/);
    assert.equal(mailsTo('tom@example.com', VERIFY_SUBJECT).length, 1, 'no verification link for the second try');
    assert.equal(await accountsWithEmail(ferry, 'tom@example.com'), 1);
    const intruder = new Browser();
    const { page } = await beginAuthorization(ferry, rp, intruder);
    assert.equal((await intruder.submit(page, '/login', { identifier: 'tom@example.com', password: 'an intruder password' })).status, 401);
  });

  it("sends a link from the account page to a signed-in user's unverified address", async () => {
    await registerThroughForm(ferry, rp, new Browser(), { email: 'amy@example.com', password: 'amy own password' });
    await next('amy@example.com', VERIFY_SUBJECT, 0);
    const browser = new Browser();
    await signIn(ferry, rp, browser, 'amy@example.com', 'amy own password');
    const accountPage = await browser.get(`${ferry.issuer}/account/email`);
    assert.equal(accountPage.status, 200);
    assert.match(accountPage.html, /id="email-unverified"/);
    const sent = await browser.submit(accountPage, '/account/email/verify');
    assert.match(sent.html, /id="verification-sent"/);
    const link = linkIn((await next('amy@example.com', VERIFY_SUBJECT, 1)).text);
    assert.equal((await confirm(link)).status, 200);
    assert.match((await browser.get(`${ferry.issuer}/account/email`)).html, /id="email-verified"/);
    assert.equal((await new Browser().get(`${ferry.issuer}/account/email`)).status, 401, 'nobody signed in: nothing to show');
  });
});

describe('registration.requireVerifiedEmail', () => {
  let smtp: Smtp;
  let ferry: TestFerry;
  let rp: oidc.Configuration;
  const { next, linkIn, confirm } = mailbox(() => smtp);

  before(async () => {
    smtp = await startSmtpServer();
    ferry = await startFerry({
      mail: { smtpUrl: smtp.url, from: 'no-reply@ferry.test', pollIntervalMs: 100 },
      registration: { requireVerifiedEmail: true },
    });
    rp = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await smtp?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('holds the sign-in back with a resend button until the link is used, then lets it finish', async () => {
    await registerThroughForm(ferry, rp, new Browser(), { email: 'hana@example.com', password: 'hana own password' });
    await next('hana@example.com', VERIFY_SUBJECT, 0);

    const browser = new Browser();
    const { page, checks } = await beginAuthorization(ferry, rp, browser);
    const held = await browser.submit(page, '/login', { identifier: 'hana@example.com', password: 'hana own password' }, ferry.redirectUri);
    assert.equal(held.status, 403);
    assert.match(held.html, /id="verify-first"/);
    assert.ok(!held.url.startsWith(ferry.redirectUri));

    const resent = await browser.submit(held, '/verify-email');
    assert.match(resent.html, /id="verification-sent"/);
    const link = linkIn((await next('hana@example.com', VERIFY_SUBJECT, 1)).text);
    assert.equal((await confirm(link)).status, 200);

    // Back to the same sign-in, as the page's link goes.
    const login = await browser.get(new URL(/<a href="(\/interaction\/[^"]+)">Back to sign in/.exec(resent.html)![1]!, ferry.issuer).href);
    const callback = await completeLogin(ferry, browser, login, 'hana@example.com', 'hana own password');
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(callback.url), checks);
    assert.equal(tokens.claims()!.email_verified, true);
  });
});

describe('registration with mail off keeps its answer', () => {
  const suite = ferryForSuite();

  it('signs the new account in at once and says when an address is taken; no mail is made', async () => {
    const first = await registerThroughForm(suite.ferry, suite.rp, new Browser(), { email: 'nomail@example.com', password: 'a fine passphrase' });
    assert.ok(first.result.url.startsWith(suite.ferry.redirectUri));
    const tokens = await oidc.authorizationCodeGrant(suite.rp, new URL(first.result.url), first.checks);
    assert.equal(tokens.claims()!.email_verified, false);

    const again = await registerThroughForm(suite.ferry, suite.rp, new Browser(), { email: 'nomail@example.com', password: 'another passphrase' });
    assert.equal(again.result.status, 409);
    assert.match(again.result.html, /An account with this email address already exists/);
    const outbox = await suite.ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from mail_outbox');
    assert.equal(outbox.rows[0]!.n, 0);
  });
});

describe('a legacy emailVerified keeps its value on migration and import', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let rp: oidc.Configuration;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', [
      { email: 'kept@example.com', username: 'kept', name: 'Kept Verified', password: 'kept legacy pw' },
      { email: 'notyet@example.com', username: 'notyet', name: 'Not Yet', password: 'notyet legacy pw' },
    ]);
    await legacy.query(`update users set email_verified = false where email = 'notyet@example.com'`);
    ferry = await startFerry({
      adminToken: ADMIN_TOKEN,
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    });
    rp = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('migrates verified and unverified addresses as they were', async () => {
    for (const [user, verified] of [
      ['kept', true],
      ['notyet', false],
    ] as const) {
      const first = await signIn(ferry, rp, new Browser(), `${user}@example.com`, `${user} legacy pw`);
      assert.equal(first.claims()!.email_verified, verified, `${user} on migration`);
      const local = await signIn(ferry, rp, new Browser(), `${user}@example.com`, `${user} legacy pw`);
      assert.equal(local.claims()!.email_verified, verified, `${user} once migrated`);
    }
  });

  it('imports verified and unverified addresses as they were', async () => {
    const hash = await bcrypt.hash('imported password 1', 10);
    const answer = await adminClient(ferry).post('/users/import', {
      users: [
        { id: 'imp-1', email: 'imp.yes@example.com', emailVerified: true, passwordHash: hash },
        { id: 'imp-2', email: 'imp.no@example.com', emailVerified: false, passwordHash: hash },
      ],
    });
    assert.equal(answer.body.created, 2, answer.text);
    assert.equal((await signIn(ferry, rp, new Browser(), 'imp.yes@example.com', 'imported password 1')).claims()!.email_verified, true);
    assert.equal((await signIn(ferry, rp, new Browser(), 'imp.no@example.com', 'imported password 1')).claims()!.email_verified, false);
  });
});
