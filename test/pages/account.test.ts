import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, type Page } from '../helpers/browser.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { freePort, removeDataDir, startFerry, TEST_CLIENT, type TestFerry } from '../helpers/ferry.ts';
import { mailbox, type Smtp } from '../helpers/mailbox.ts';
import { beginAuthorization, consentIfAsked, registerThroughForm, relyingParty, signIn, ferryForSuite, authorizationUrl } from '../helpers/relying-party.ts';
import { startSmtpServer } from '../helpers/smtp.ts';

const OTHER_CLIENT = { client_id: 'other-app', client_secret: 'other-app-secret-that-is-long-enough' };
/** openid-client's ResponseBodyError for a refresh token that no longer works. */
const INVALID_GRANT = (error: unknown) => (error as { error?: string }).error === 'invalid_grant';
const CHANGE_SUBJECT = 'Confirm your new email address';
const CHANGED_SUBJECT = 'Your email address was changed';

/** Ferry with two named relying parties, so that the account page has applications to list. */
async function startWithClients(mail: object) {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/test-callback`;
  const clients = [
    { ...TEST_CLIENT, client_name: 'Test App', redirect_uris: [redirectUri] },
    { ...TEST_CLIENT, ...OTHER_CLIENT, client_name: 'Other App', redirect_uris: [redirectUri] },
  ];
  return startFerry({ mail, clients } as never, { port, dataDir: mkdtempSync(join(tmpdir(), 'ferry-test-')) });
}

describe('the account page (a real SMTP server)', () => {
  let smtp: Smtp;
  let ferry: TestFerry;
  let rp: oidc.Configuration;
  let other: oidc.Configuration;
  const { mailsTo, next, linkIn, confirm } = mailbox(() => smtp);

  before(async () => {
    smtp = await startSmtpServer();
    ferry = await startWithClients({ smtpUrl: smtp.url, from: 'no-reply@ferry.test', pollIntervalMs: 100 });
    rp = await relyingParty(ferry);
    other = await relyingParty(ferry, OTHER_CLIENT);
  });
  after(async () => {
    await ferry?.stop();
    await smtp?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  /** A registered user, signed in to the test client in `browser` (which then holds Ferry's session). */
  const user = async (email: string, password: string, browser = new Browser()) => {
    await registerThroughForm(ferry, rp, new Browser(), { email, password });
    const tokens = await signIn(ferry, rp, browser, email, password);
    return { browser, tokens };
  };
  /** Signs in to another client in a browser that has a session: only the consent page is shown. */
  const allow = async (client: oidc.Configuration, browser: Browser) => {
    const { page, checks } = await beginAuthorization(ferry, client, browser);
    const back = await consentIfAsked(ferry, browser, page);
    return oidc.authorizationCodeGrant(client, new URL(back.url), checks);
  };
  const account = (browser: Browser) => browser.get(`${ferry.issuer}/account`);
  const profileOf = async (email: string) =>
    (await ferry.ferry.db.query<{ profile: Record<string, unknown> }>('select profile from accounts where email = $1', [email])).rows[0]?.profile;

  it('without a session, says to sign in first', async () => {
    const page = await account(new Browser());
    assert.equal(page.status, 401);
    assert.match(page.html, /You are not signed in to Ferry/);
    assert.doesNotMatch(page.html, /action="\/account\/profile"/);
  });

  it('saves the name and picture that relying parties then see, and refuses a picture that is not https', async () => {
    const { browser } = await user('ann@example.com', 'ann own password');
    const page = await account(browser);
    assert.equal(page.status, 200);
    assert.match(page.html, /id="current-email">ann@example.com</);
    assert.match(page.html, /<tr data-client="test-app">\s*<td>Test App/, 'the application she signed in to is listed by its name');

    for (const picture of ['javascript:alert(1)', 'http://img.example.com/ann.png', 'https://user:pw@img.example.com/ann.png']) {
      const refused = await browser.submit(page, '/account/profile', { name: 'Ann Refused', picture });
      assert.equal(refused.status, 400, picture);
      assert.match(refused.html, /The picture must be an https:\/\/ address/);
      assert.match(refused.html, /value="Ann Refused"/, 'what she typed is still in the form');
    }
    assert.equal((await profileOf('ann@example.com'))!.name, undefined, 'nothing was saved');

    const saved = await browser.submit(page, '/account/profile', { name: '  Ann Example ', picture: 'https://img.example.com/ann.png' });
    assert.equal(saved.status, 200);
    assert.equal(new URL(saved.url).search, '?done=profile', 'a redirect after the POST, so reloading does not send it again');
    assert.match(saved.html, /id="profile-saved"/);
    assert.match(saved.html, /value="Ann Example"/);

    const claims = (await signIn(ferry, rp, new Browser(), 'ann@example.com', 'ann own password')).claims()!;
    assert.equal(claims.name, 'Ann Example');
    assert.equal(claims.picture, 'https://img.example.com/ann.png');

    const cleared = await browser.submit(saved, '/account/profile', { name: '', picture: '' });
    assert.match(cleared.html, /id="profile-saved"/);
    const profile = (await profileOf('ann@example.com'))!;
    assert.ok(!('name' in profile) && !('photo' in profile), JSON.stringify(profile));
    assert.equal(profile.email, 'ann@example.com', 'the rest of the profile is kept');
  });

  it('changes the email address through a link mailed to the new one, after the current password; the old one is told', async () => {
    const { browser } = await user('bob@example.com', 'bob own password');
    const page = await account(browser);
    const wrong = await browser.submit(page, '/account/email/change', { email: 'robert@example.com', current_password: 'not his password' });
    assert.equal(wrong.status, 400);
    assert.match(wrong.html, /The current password is not correct/);
    const same = await browser.submit(page, '/account/email/change', { email: 'BOB@example.com', current_password: 'bob own password' });
    assert.equal(same.status, 400);
    assert.match(same.html, /already your address/);

    const sent = await browser.submit(page, '/account/email/change', { email: 'Robert@Example.com', current_password: 'bob own password' });
    assert.equal(sent.status, 200);
    assert.match(sent.html, /id="email-change-sent"/);
    assert.match(sent.html, /id="current-email">bob@example.com</, 'the address stays until the link is used');
    const link = linkIn((await next('robert@example.com', CHANGE_SUBJECT, 0)).text);
    assert.equal(mailsTo('robert@example.com', CHANGE_SUBJECT).length, 1, 'one mail: the wrong password sent none');
    assert.equal((await signIn(ferry, rp, new Browser(), 'bob@example.com', 'bob own password')).claims()!.email, 'bob@example.com');

    const done = await confirm(link);
    assert.equal(done.status, 200);
    assert.match(done.html, /id="verify-changed"/);
    assert.equal((await confirm(link)).status, 400, 'the link works once');
    const told = await next('bob@example.com', CHANGED_SUBJECT, 0);
    assert.doesNotMatch(told.text, /robert/, 'the old address is told, not where the account went');

    const claims = (await signIn(ferry, rp, new Browser(), 'robert@example.com', 'bob own password')).claims()!;
    assert.equal(claims.email, 'robert@example.com');
    assert.equal(claims.email_verified, true, 'the new address is verified: its link was used');
    const { page: login } = await beginAuthorization(ferry, rp, new Browser());
    const old = await new Browser().submit(login, '/login', { identifier: 'bob@example.com', password: 'bob own password' }, ferry.redirectUri);
    assert.ok(!old.url.startsWith(ferry.redirectUri), 'the old address signs in no more');
  });

  it('does not give an account an address another account has, and an older change link changes nothing once one was used', async () => {
    await user('owner@example.com', 'owner own password');
    const { browser } = await user('carol@example.com', 'carol own password');
    const page = await account(browser);
    const answer = await browser.submit(page, '/account/email/change', { email: 'owner@example.com', current_password: 'carol own password' });
    assert.match(answer.html, /id="email-change-sent"/, 'the same answer as for a free address: the page is no way to find accounts');
    const taken = await confirm(linkIn((await next('owner@example.com', CHANGE_SUBJECT, 0)).text));
    assert.equal(taken.status, 409);
    assert.match(taken.html, /id="verify-taken"/);
    assert.equal((await profileOf('carol@example.com'))!.email, 'carol@example.com');

    await browser.submit(page, '/account/email/change', { email: 'carol.first@example.com', current_password: 'carol own password' });
    await browser.submit(page, '/account/email/change', { email: 'carol.second@example.com', current_password: 'carol own password' });
    const first = linkIn((await next('carol.first@example.com', CHANGE_SUBJECT, 0)).text);
    const second = linkIn((await next('carol.second@example.com', CHANGE_SUBJECT, 0)).text);
    assert.equal((await confirm(second)).status, 200);
    assert.equal((await confirm(first)).status, 400, 'the older link was ended by the change');
    const emails = await ferry.ferry.db.query<{ email: string }>(`select email from accounts where email like 'carol%' order by email`);
    assert.deepEqual(
      emails.rows.map((row) => row.email),
      ['carol.second@example.com'],
    );
  });

  it('lists the applications and revokes one: its refresh token stops working, the other one and other accounts keep theirs', async () => {
    const { browser, tokens } = await user('dave@example.com', 'dave own password');
    const daveOther = await allow(other, browser);
    const eve = await user('eve@example.com', 'eve own password');
    const eveOther = await allow(other, eve.browser);

    const page = await account(browser);
    assert.match(page.html, /Test App/);
    assert.match(page.html, /Other App/);
    const revoked = await browser.submit(page, '/account/apps/revoke', { client_id: 'other-app' });
    assert.equal(revoked.status, 200);
    assert.match(revoked.html, /id="app-revoked"/);
    assert.doesNotMatch(revoked.html, /Other App/);

    await assert.rejects(oidc.refreshTokenGrant(other, daveOther.refresh_token!), INVALID_GRANT);
    assert.ok((await oidc.refreshTokenGrant(rp, tokens.refresh_token!)).access_token, "the other application's token still works");
    assert.ok((await oidc.refreshTokenGrant(other, eveOther.refresh_token!)).access_token, "another account's grant to the same application is untouched");

    const again = await browser.submit(page, '/account/apps/revoke', { client_id: 'other-app' });
    assert.equal(again.status, 404, 'nothing left to revoke');
    const { page: consent } = await beginAuthorization(ferry, other, browser);
    assert.match(consent.html, /\/confirm"/, 'the application asks for consent again');
  });

  it('signs out everywhere: sessions in other browsers and every token end', async () => {
    const { browser, tokens } = await user('frank@example.com', 'frank own password');
    const elsewhere = new Browser();
    await signIn(ferry, rp, elsewhere, 'frank@example.com', 'frank own password');
    assert.equal((await account(elsewhere)).status, 200);

    const done = await browser.submit(await account(browser), '/account/sign-out-everywhere');
    assert.equal(done.status, 200);
    assert.match(done.html, /id="signed-out-everywhere"/);
    assert.equal((await account(browser)).status, 401);
    assert.equal((await account(elsewhere)).status, 401, 'the other browser is signed out too');
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), INVALID_GRANT);
    const { page } = await beginAuthorization(ferry, rp, elsewhere);
    assert.match(page.html, /name="password"/, 'the next sign-in asks for the password');
  });

  it('is usable with the keyboard alone in Chromium', async (t) => {
    const chromium = await launchChromium(t);
    if (!chromium) return;
    await registerThroughForm(ferry, rp, new Browser(), { email: 'kay@example.com', password: 'kay own password' });
    try {
      const page = await (await chromium.newContext()).newPage();
      await page.goto(await authorizationUrl(ferry, rp));
      await page.locator('#identifier:focus').waitFor();
      await page.keyboard.type('kay@example.com');
      await page.keyboard.press('Tab');
      await page.keyboard.type('kay own password');
      await page.keyboard.press('Enter');
      await page.locator('#identifier').waitFor({ state: 'detached' });
      // Registration with mail on does not sign in, so this first sign-in asks for consent: Allow has the focus.
      if ((await page.locator('form[action$="/confirm"]').count()) > 0) await page.keyboard.press('Enter');
      await page.waitForURL((target) => target.href.startsWith(ferry.redirectUri));

      await page.goto(`${ferry.issuer}/account`);
      // From the top of the page: Tab to the name field, type, Tab over the picture, Enter on the button.
      for (let i = 0; i < 5 && (await page.locator('#name:focus').count()) === 0; i++) await page.keyboard.press('Tab');
      await page.keyboard.type('Kay Keyboard');
      await page.keyboard.press('Tab');
      await page.keyboard.type('https://img.example.com/kay.png');
      await page.keyboard.press('Enter');
      await page.locator('#profile-saved').waitFor();
      assert.equal(await page.locator('#name').inputValue(), 'Kay Keyboard');
    } finally {
      await chromium.close();
    }
    const profile = (await profileOf('kay@example.com'))!;
    assert.equal(profile.name, 'Kay Keyboard');
    assert.equal(profile.photo, 'https://img.example.com/kay.png');
  });
});

describe('the account page without mail', () => {
  const suite = ferryForSuite();

  it('says the address cannot be changed here, and refuses a change', async () => {
    const browser = new Browser();
    await registerThroughForm(suite.ferry, suite.rp, browser, { email: 'nomail@example.com', password: 'nomail own password' });
    const page: Page = await browser.get(`${suite.ferry.issuer}/account`);
    assert.match(page.html, /This site sends no mail, so the address cannot be changed here/);
    assert.doesNotMatch(page.html, /action="\/account\/email\/change"/);
    const refused = await browser.request(`${suite.ferry.issuer}/account/email/change`, {
      method: 'POST',
      form: { csrf: /name="csrf" value="([^"]+)"/.exec(page.html)![1]!, email: 'new@example.com', current_password: 'nomail own password' },
    });
    assert.equal(refused.status, 503);
    assert.match(refused.html, /This site sends no mail/);
  });
});
