import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser as Chromium, Page } from 'playwright-core';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser, findForm } from '../helpers/browser.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

const USERS = [
  { email: 'alice@example.com', username: 'alice', name: 'Alice Liddell', password: 'alice-legacy-pw' },
  { email: 'bob@example.com', username: 'bob', name: 'Bob Kahn', password: 'bob-legacy-pw' },
  { email: 'carol@example.com', username: 'carol', name: 'Carol Shaw', password: 'carol-legacy-pw' },
];

/** Collects CSP violations, script errors and failed loads (but the wrong-token page's own 401 and the favicon). */
function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    const { url } = message.location();
    if (message.type() !== 'error' || url.endsWith('/favicon.ico') || url.endsWith('/console/login')) return;
    problems.push(`${message.text()} (${url})`);
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

describe('the console in a real browser, against a real PostgreSQL legacy database', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let chromium: Chromium | undefined;

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', USERS);
    ferry = await startFerry({ adminToken: ADMIN_TOKEN });
  });
  after(async () => {
    await chromium?.close();
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('signs in, sets up the connection, edits, saves and tests a script, and shows a migrated user and the progress chart', async (t) => {
    chromium = await launchChromium(t);
    if (!chromium) return;
    const context = await chromium.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);

    // Sign in with the admin token, with the keyboard.
    await page.goto(`${ferry.issuer}/console`);
    assert.equal(new URL(page.url()).pathname, '/console/login');
    await page.getByLabel('Admin key or token').fill('not the token');
    await page.keyboard.press('Enter');
    assert.match(await page.getByRole('alert').innerText(), /neither the admin token nor an admin key/);
    await page.getByLabel('Admin key or token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${ferry.issuer}/console/connection`);
    const session = (await context.cookies()).find((cookie) => cookie.name === 'ferry.console');
    assert.ok(session, 'a session cookie');
    assert.deepEqual([session.httpOnly, session.sameSite, session.path], [true, 'Strict', '/console']);
    assert.ok(
      (await context.cookies()).some((cookie) => cookie.name === 'ferry.console.sig'),
      'the session cookie is signed',
    );

    // The connection: enable it, lazy migration, the URI form (the programmatic fields hide).
    await page.getByLabel('Enabled').check();
    await page.getByLabel('Lazy migration').check();
    await page.getByLabel('Programmatic').check();
    assert.equal(await page.getByLabel(/^Connection URI/).isVisible(), false);
    await page.getByLabel('Connection URI', { exact: true }).check();
    assert.equal(await page.getByLabel(/^Host/).isVisible(), false);
    await page.getByLabel(/^Connection URI \(/).fill(legacy.url);
    await page.getByLabel('Variable 1 name').fill('GREETING');
    await page.getByLabel('Variable 1 value').fill('hello from env');
    await page.getByRole('button', { name: 'Save the connection' }).click();
    assert.match(await page.getByRole('status').innerText(), /connection was saved/);
    const connection = await ferry.ferry.federation.settings.current();
    assert.deepEqual(
      [connection.enabled, connection.mode, connection.env.DB_CONNECTION_URI, connection.env.GREETING],
      [true, 'LAZY_MIGRATION', legacy.url, 'hello from env'],
    );

    // The login script: load the PostgreSQL template, add a console line, save, test.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Scripts' }).click();
    await page.getByRole('link', { name: 'login' }).click();
    await page.getByLabel('Start from a template').selectOption('postgres');
    await page.getByRole('button', { name: 'Load into the editor' }).click();
    const editor = page.getByLabel(/^Script/);
    const source = await editor.inputValue();
    assert.equal(source, readFileSync(join(TEMPLATES, 'postgres', 'login.js'), 'utf8'));
    await editor.fill(source.replace('{\n', "{\n  console.log('login for', query.email || query.username || query.phone, env.GREETING);\n"));
    await page.getByLabel(/^Note for this version/).fill('PostgreSQL template with a log line');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    assert.match(await page.getByRole('status').first().innerText(), /saved as a new version/);
    assert.match(await page.locator('#versions').innerText(), /1 \(current\)\s+\S+\s+PostgreSQL template with a log line/);

    await page.getByLabel('Email, phone or username').fill('Alice@Example.com');
    await page.getByLabel('Password').fill('alice-legacy-pw');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    assert.match(await page.locator('#test-outcome').innerText(), /^ok in [\d.]+ ms, running the saved script/);
    assert.equal(JSON.parse(await page.locator('#test-value').innerText()).email, 'alice@example.com');
    assert.match(await page.locator('#test-logs').innerText(), /login for alice@example.com hello from env/);
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is not sent back');
    assert.equal(await page.getByLabel('Email, phone or username').inputValue(), 'Alice@Example.com');
    assert.equal((await ferry.ferry.db.query('select 1 from accounts')).rowCount, 0, 'testing migrates nobody');

    // The log history shows that execution.
    await page.getByRole('link', { name: 'Log history' }).click();
    await page.getByLabel('Script').selectOption('login');
    await page.getByRole('button', { name: 'Show' }).click();
    assert.match(await page.locator('#executions').innerText(), /login\s+ok/);

    // A real sign-in migrates Alice; the users page and the migration chart show it.
    await adminClient(ferry).put('/scripts/listUsers', { source: readFileSync(join(TEMPLATES, 'postgres', 'listUsers.js'), 'utf8') });
    await signIn(ferry, await relyingParty(ferry), new Browser(), 'alice', 'alice-legacy-pw');
    await page.getByRole('link', { name: 'Users' }).click();
    assert.match(await page.locator('#users').innerText(), /alice@example.com\s+alice\s+Alice Liddell\s+migrated \d{4}-\d{2}-\d{2}/);
    await page.getByRole('link', { name: 'Migration' }).click();
    assert.equal(await page.locator('#migrated').innerText(), '1');
    assert.equal(await page.locator('#legacy-total').innerText(), '3');
    assert.equal(await page.locator('#progress').innerText(), '33.3 %');
    const bars = page.locator('svg.per-day-chart rect.bar');
    assert.equal(await bars.count(), 30);
    const heights = await bars.evaluateAll((rects) => rects.map((rect) => Number(rect.getAttribute('height'))));
    assert.ok(heights[29]! > 0 && heights.slice(0, 29).every((height) => height === 0), "today's bar is the only one drawn");
    const fill = Number(await page.locator('svg.progress-chart rect.fill').getAttribute('width'));
    assert.ok(Math.abs(fill - 199.8) < 0.01, `the progress bar is a third full (${fill} of 600)`);
    assert.deepEqual(problems, [], 'no CSP violation or script error');

    // Sign out.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${ferry.issuer}/console/login`);
    await page.goto(`${ferry.issuer}/console/users`);
    assert.equal(new URL(page.url()).pathname, '/console/login');
    await context.close();
  });

  it("edits a user's profile and password, sets script concurrency and the circuit breaker, and restores an older script version", async (t) => {
    chromium ??= await launchChromium(t);
    if (!chromium) return;
    const context = await chromium.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${ferry.issuer}/console/login`);
    await page.getByLabel('Admin key or token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${ferry.issuer}/console/connection`);

    // Concurrency and the breaker, next to the other limits.
    await page.getByLabel('Scripts running at once, at most').fill('7');
    await page.getByLabel('Failures in a row before it opens').fill('3');
    await page.getByLabel('Seconds it stays open').fill('20');
    await page.getByRole('button', { name: 'Save the connection' }).click();
    assert.match(await page.getByRole('status').innerText(), /connection was saved/);
    const connection = await ferry.ferry.federation.settings.current();
    assert.deepEqual([connection.maxConcurrentScripts, connection.breaker], [7, { failureThreshold: 3, openSeconds: 20 }]);
    assert.equal(connection.env.DB_CONNECTION_URI, legacy.url, 'the rest of the connection is kept');
    assert.equal(await page.getByLabel('Seconds it stays open').inputValue(), '20');

    // Alice (migrated by the test above): change her profile, then her password, with the keyboard.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('link', { name: 'Edit alice@example.com' }).click();
    const name = page.getByLabel('Name', { exact: true });
    assert.equal(await name.inputValue(), 'Alice Liddell');
    await name.fill('Alice Pleasance Liddell');
    await page.getByLabel('Nickname', { exact: true }).fill('Al');
    await page.getByLabel('Nickname', { exact: true }).press('Enter');
    assert.match(await page.getByRole('status').innerText(), /profile was saved/);
    assert.equal(await name.inputValue(), 'Alice Pleasance Liddell');
    const { rows } = await ferry.ferry.db.query<{ profile: { name: string; nickname: string }; email: string }>(
      "select profile, email from accounts where username = 'alice'",
    );
    assert.deepEqual([rows[0]!.profile.name, rows[0]!.profile.nickname, rows[0]!.email], ['Alice Pleasance Liddell', 'Al', 'alice@example.com']);

    await page.getByLabel('New password', { exact: true }).fill('looking glass 1871');
    await page.getByLabel('The new password again').fill('looking glass 1872');
    await page.getByLabel('The new password again').press('Enter');
    assert.match(await page.getByRole('alert').innerText(), /two passwords differ/);
    await page.getByLabel('New password', { exact: true }).fill('looking glass 1871');
    await page.getByLabel('The new password again').fill('looking glass 1871');
    await page.getByRole('button', { name: 'Set the password' }).click();
    assert.match(await page.getByRole('status').innerText(), /new password was set/);
    assert.equal(await page.getByLabel('New password', { exact: true }).inputValue(), '', 'the password is not sent back');
    const { signIn: accounts } = ferry.ferry.federation;
    assert.ok((await accounts.signIn('alice', 'looking glass 1871', { ip: '127.0.0.1' })).ok, 'the new password signs in');
    assert.ok(!(await accounts.signIn('alice', 'alice-legacy-pw', { ip: '127.0.0.1' })).ok, 'the old one does not');

    // The login script: save a second version, then restore the first.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Scripts' }).click();
    await page.getByRole('link', { name: 'login' }).click();
    const first = await page.getByLabel(/^Script/).inputValue();
    await page.getByLabel(/^Script/).fill(first.replace('login for', 'signing in'));
    await page.getByLabel(/^Note for this version/).fill('reworded');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    assert.match(await page.locator('#versions').innerText(), /^2 \(current\)/m);
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    assert.match(await page.getByRole('status').first().innerText(), /old version was saved as the newest version/);
    assert.match(await page.locator('#versions').innerText(), /^3 \(current\)/m);
    assert.equal(await page.getByLabel(/^Script/).inputValue(), first);
    const saved = await adminClient(ferry).get('/scripts/login');
    assert.deepEqual([saved.body.version, saved.body.source], [3, first]);
    const unexpected = problems.filter((problem) => !/status of 400 .*\/password\)$/.test(problem)); // the differing passwords, refused on purpose
    assert.deepEqual(unexpected, [], 'no CSP violation or script error');
    await context.close();
  });

  it('fits a phone screen and can be used with the keyboard alone', async (t) => {
    chromium ??= await launchChromium(t);
    if (!chromium) return;
    const context = await chromium.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${ferry.issuer}/console/login`);
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${ferry.issuer}/console/connection`);
    const { rows } = await ferry.ferry.db.query<{ sub: string }>("select sub from accounts where username = 'alice'");
    const userPage = `/console/users/${encodeURIComponent(rows[0]!.sub)}`;
    for (const path of ['/console/connection', '/console/scripts/login', '/console/logs', '/console/users', userPage, '/console/migration']) {
      await page.goto(`${ferry.issuer}${path}`);
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.equal(overflow, 0, `${path} fits a 360 px screen (wide tables scroll inside their box)`);
    }
    // The skip link is the first thing the keyboard reaches, and it leads to the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to the content');
    await context.close();
  });
});

describe('the console without a browser', () => {
  let ferry: TestFerry;
  before(async () => {
    ferry = await startFerry({ adminToken: ADMIN_TOKEN, connection: { scriptsDir: join(TEMPLATES, 'mysql') } });
  });
  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const signedIn = async () => {
    const browser = new Browser();
    const login = await browser.get(`${ferry.issuer}/console/login`);
    const page = await browser.submit(login, '/console/login', { token: ADMIN_TOKEN });
    assert.equal(new URL(page.url).pathname, '/console/connection');
    return browser;
  };

  it('shows scripts from a folder read-only, still tests drafts, and refuses forms without their CSRF token', async () => {
    const browser = await signedIn();
    const page = await browser.get(`${ferry.issuer}/console/scripts/getUser`);
    assert.match(page.html, /id="read-only"/);
    assert.match(page.html, /<textarea id="source" name="source"[^>]*readonly/);
    assert.ok(!page.html.includes('Save as a new version'), 'no Save button');
    const draftPage = await browser.get(`${ferry.issuer}/console/scripts/getUser?draft=1`);
    assert.doesNotMatch(draftPage.html, /<textarea id="source" name="source"[^>]*readonly/);
    const tested = await browser.submit(draftPage, '/test', {
      source: 'async function getUser(query, context) {\r\n  console.warn("asked for", query.email);\r\n  return null;\r\n}\r\n',
      test_query_email: 'Someone@Example.com',
    });
    assert.match(tested.html, /<strong>ok<\/strong>.*running the draft in the editor/);
    assert.match(tested.html, /asked for someone@example.com/);

    const form = findForm(page, '/test');
    const forged = await browser.request(new URL(form.action, page.url).href, { form: { ...form.fields, csrf: 'forged' } });
    assert.equal(forged.status, 403);
    const saved = await browser.request(`${ferry.issuer}/console/scripts/getUser/save`, { form: { ...form.fields, source: 'x' } });
    assert.equal(saved.status, 409, 'the files are the source of truth');
  });

  it('refuses the user and connection forms without their CSRF token, and shows a refused setting again', async () => {
    const browser = await signedIn();
    const { directory } = ferry.ferry.federation;
    const created = await directory.create({ email: 'csrf@example.com', password: 'csrf test password 1' });
    const userPage = await browser.get(`${ferry.issuer}/console/users/${encodeURIComponent(created.sub)}`);
    assert.equal(userPage.status, 200);
    for (const action of ['/profile', '/password']) {
      const form = findForm(userPage, action);
      const values = { name: 'Forged Name', password: 'forged password 1', password_confirm: 'forged password 1' };
      const forged = await browser.request(new URL(form.action, userPage.url).href, { form: { ...form.fields, ...values, csrf: 'forged' } });
      assert.equal(forged.status, 403, `${action} needs the CSRF token`);
      const unsigned = await new Browser().request(new URL(form.action, userPage.url).href, { form: { ...form.fields, ...values } });
      assert.equal(unsigned.status, 303, `${action} needs the console session`);
    }
    assert.equal((await directory.get(created.sub)).name, undefined, 'the profile is unchanged');
    assert.ok((await ferry.ferry.federation.signIn.signIn('csrf@example.com', 'csrf test password 1', { ip: '127.0.0.1' })).ok, 'the password is unchanged');

    const connection = await browser.get(`${ferry.issuer}/console/connection`);
    const form = findForm(connection, '/console/connection');
    const forged = await browser.request(new URL(form.action, connection.url).href, { form: { ...form.fields, maxConcurrentScripts: '9', csrf: 'forged' } });
    assert.equal(forged.status, 403);
    const refused = await browser.submit(connection, '/console/connection', { maxConcurrentScripts: '0', breaker_openSeconds: '15' });
    assert.equal(refused.status, 400);
    assert.match(refused.html, /role="alert"[\s\S]*maxConcurrentScripts/);
    assert.match(refused.html, /id="maxConcurrentScripts" name="maxConcurrentScripts" type="number"[^>]* value="0"/);
    assert.match(refused.html, /id="breaker_openSeconds" name="breaker_openSeconds" type="number"[^>]* value="15"/);
    const settings = await ferry.ferry.federation.settings.current();
    assert.deepEqual([settings.maxConcurrentScripts, settings.breaker.openSeconds], [32, 10], 'nothing was saved');
  });

  it('sends people who are not signed in to the sign-in page, and never caches pages', async () => {
    const anonymous = new Browser();
    const page = await anonymous.request(`${ferry.issuer}/console/migration`);
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/console/login');
    const post = await anonymous.request(`${ferry.issuer}/console/connection`, { form: { enabled: 'on' } });
    assert.equal(post.status, 303);
    assert.equal((await ferry.ferry.federation.settings.current()).enabled, false);
    const browser = await signedIn();
    const users = await browser.get(`${ferry.issuer}/console/users`);
    assert.equal(users.headers.get('cache-control'), 'no-store');
    assert.match(users.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  });
});
