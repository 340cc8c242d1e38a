import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { DEMO_USERS } from '../../src/demo/legacy-db.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';

describe('hosted pages in a real browser', () => {
  let ferry: TestFerry;
  let browser: Browser | undefined;

  before(async () => {
    ferry = await startFerry({ demo: true });
  });
  after(async () => {
    await browser?.close();
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  it('registers, consents and shows the ID token claims and userinfo on the demo page', async (t) => {
    browser = await launchChromium(t);
    if (!browser) return;
    const page = await browser.newPage();
    await page.goto(`${ferry.issuer}/`);
    assert.equal(new URL(page.url()).pathname, '/demo');
    await page.getByRole('link', { name: 'Sign in with Ferry' }).click();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Password', { exact: true }).fill('a long enough password');
    await page.getByLabel('Password again').fill('a long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${ferry.issuer}/demo`);
    const claims = JSON.parse(await page.locator('#id-token-claims').innerText());
    const userinfo = JSON.parse(await page.locator('#userinfo').innerText());
    assert.equal(claims.email, 'grace@example.com');
    assert.equal(claims.name, 'Grace Hopper');
    assert.equal(userinfo.sub, claims.sub);

    await page.getByRole('button', { name: /Use the refresh token/ }).click();
    assert.match(await page.getByRole('button', { name: /Use the refresh token/ }).innerText(), /rotated 1 time/);

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${ferry.issuer}/demo`);
    assert.equal(await page.getByRole('link', { name: 'Sign in with Ferry' }).count(), 1);
  });

  it('says why a sign-in the user cancelled did not happen', async (t) => {
    browser ??= await launchChromium(t);
    if (!browser) return;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${ferry.issuer}/demo/login`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(`${ferry.issuer}/demo`);
    assert.equal(await page.getByRole('alert').innerText(), 'Sign-in failed: The user cancelled the sign-in.');
    await context.close();
  });

  it('signs in with the keyboard alone on a phone-sized screen, and shows a plain error first', async (t) => {
    browser ??= await launchChromium(t);
    if (!browser) return;
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${ferry.issuer}/demo/login`);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.equal(overflow, 0, 'the login page fits a 360 px screen');
    // The identifier field takes the focus by itself; on a loaded machine that can come just after
    // the load event, and keys typed before it are lost.
    await page.waitForFunction("document.activeElement?.getAttribute('name') === 'identifier'");
    await page.keyboard.type('grace@example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.type('wrong password');
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    assert.match(await page.getByRole('alert').innerText(), /not correct/);
    assert.equal(await page.getByLabel('Email, phone or username').inputValue(), 'grace@example.com', 'the identifier is kept');
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByLabel('Password').press('Enter');
    // grace signed out above, which revoked her grant, so consent is asked again; "Allow" has the focus.
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${ferry.issuer}/demo`);
    assert.match(await page.locator('.notice').first().innerText(), /grace@example.com/);
    await context.close();
  });

  it('migrates a user of the sample legacy database who signs in on the demo page, and shows it', async (t) => {
    browser ??= await launchChromium(t);
    if (!browser) return;
    const bob = DEMO_USERS[1];
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${ferry.issuer}/demo`);
    assert.match(await page.getByRole('row', { name: new RegExp(bob.email) }).innerText(), /not yet/, 'listed as not migrated yet');
    await page.getByRole('link', { name: 'Sign in with Ferry' }).click();
    await page.getByLabel('Email, phone or username').fill(bob.username);
    await page.getByLabel('Password').fill(bob.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${ferry.issuer}/demo`);

    const { rows } = await ferry.ferry.db.query<{ sub: string; legacy_id: string | null; migrated_at: Date | null }>(
      'select sub, legacy_id, migrated_at from accounts where email = $1',
      [bob.email],
    );
    assert.equal(rows.length, 1, 'bob has an account in Ferry now');
    const account = rows[0]!;
    assert.ok(account.legacy_id, 'the account holds its legacy id');
    assert.ok(account.migrated_at instanceof Date);
    const notice = await page.locator('#migration').innerText();
    assert.match(
      notice,
      /^Migrated from the legacy database: this account was copied into Ferry on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC /,
      'a readable time, not an ISO timestamp',
    );
    assert.ok(notice.includes(`legacy id ${account.legacy_id}`), notice);
    assert.equal(JSON.parse(await page.locator('#id-token-claims').innerText()).sub, account.sub);
    await context.close();
  });
});
