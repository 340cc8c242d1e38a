import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { alertText, Browser, type Page } from '../helpers/browser.ts';
import { oauthError } from '../helpers/conformance.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, relyingParty, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';
import { runCli } from './run-cli.ts';

const BLOCKED = 'This account has been blocked. Please contact support.';

/** Types `password` into the login form of a new sign-in in `browser`; the page the form answers with. */
async function tryLogin(ferry: TestFerry, rp: oidc.Configuration, browser: Browser, identifier: string, password: string): Promise<Page> {
  const { page } = await beginAuthorization(ferry, rp, browser);
  return browser.submit(page, '/login', { identifier, password }, ferry.redirectUri);
}

/** Whether `browser` is still signed in: a new authorization goes straight back to the client. */
async function stillSignedIn(ferry: TestFerry, rp: oidc.Configuration, browser: Browser): Promise<boolean> {
  const { page } = await beginAuthorization(ferry, rp, browser);
  if (page.url.startsWith(ferry.redirectUri)) return true;
  assert.match(page.html, /name="password"/, `the login page, or the client: ${page.url} (${page.status})`);
  return false;
}

describe("operators and a user's sign-ins, sessions and block, with Ferry's own accounts on PostgreSQL", () => {
  const USER = { email: 'mira@example.com', password: 'mira-local-password' };
  let ferry: TestFerry;
  let rp: oidc.Configuration;
  let api: ReturnType<typeof adminClient>;
  let sub: string;
  let store: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;

  before(async () => {
    // Ferry's store on PostgreSQL here (the suites below use the embedded PGlite).
    await postgresReachable();
    store = await createPostgresDatabase();
    ferry = await startFerry({ adminToken: ADMIN_TOKEN, blockedUserMessage: BLOCKED, databaseUrl: store.url });
    rp = await relyingParty(ferry);
    api = adminClient(ferry);
    const created = await api.post('/users', USER);
    assert.equal(created.status, 201, created.text);
    sub = encodeURIComponent(created.body.sub);
  });
  after(async () => {
    await ferry?.stop();
    await store?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const consoleBrowser = async () => {
    const browser = new Browser();
    const login = await browser.get(`${ferry.issuer}/console/login`);
    await browser.submit(login, '/console/login', { token: ADMIN_TOKEN });
    return browser;
  };
  const sessions = async () => {
    const answer = await api.get(`/users/${sub}/sessions`);
    assert.equal(answer.status, 200, answer.text);
    return answer.body.sessions as { uid: string; startedAt: string; lastUsedAt: string; expiresAt: string; clients: string[] }[];
  };

  it('counts sign-ins and shows the last one in the admin API and on the console', async () => {
    const fresh = await api.get(`/users/${sub}`);
    assert.deepEqual([fresh.body.signInCount, fresh.body.lastSignInAt, fresh.body.blockedAt], [0, undefined, undefined]);

    await signIn(ferry, rp, new Browser(), USER.email, USER.password);
    const wrong = await tryLogin(ferry, rp, new Browser(), USER.email, 'not the password');
    assert.equal(wrong.status, 401, 'a wrong password is no sign-in');
    const secondAt = Math.floor(Date.now() / 1000) * 1000;
    await signIn(ferry, rp, new Browser(), USER.email, USER.password);

    const seen = await api.get(`/users/${sub}`);
    assert.equal(seen.body.signInCount, 2);
    const last = Date.parse(seen.body.lastSignInAt);
    assert.ok(last >= secondAt && last <= Date.now(), `the second sign-in's time: ${seen.body.lastSignInAt}`);
    const listed = (await api.get('/users')).body.users.find((user: { email: string }) => user.email === USER.email);
    assert.deepEqual([listed.signInCount, listed.lastSignInAt], [2, seen.body.lastSignInAt], 'the list carries them too');

    const page = await (await consoleBrowser()).get(`${ferry.issuer}/console/users/${sub}`);
    assert.match(page.html, /id="sign-in-count">2</);
    assert.match(page.html, new RegExp(`<time datetime="${seen.body.lastSignInAt}">${seen.body.lastSignInAt.slice(0, 16).replace('T', ' ')} UTC`));
  });

  it("lists a user's sessions, and ending one makes that browser sign in again while the other stays signed in", async () => {
    assert.equal((await api.delete(`/users/${sub}/sessions`)).status, 200, 'the sessions of the test above ended');
    assert.deepEqual(await sessions(), []);

    // offline_access: a refresh token that outlives its session unless ending the session revokes it.
    const first = new Browser();
    const firstTokens = await signIn(ferry, rp, first, USER.email, USER.password, { scope: 'openid email offline_access', prompt: 'consent' });
    const [firstSession] = await sessions();
    const second = new Browser();
    const secondTokens = await signIn(ferry, rp, second, USER.email, USER.password);
    const both = await sessions();
    assert.equal(both.length, 2);
    const secondSession = both.find((session) => session.uid !== firstSession!.uid)!;
    for (const session of both) {
      assert.deepEqual(session.clients, ['test-app'], 'which client each session signed in to');
      assert.ok(Date.now() - Date.parse(session.startedAt) < 60_000, `started just now: ${session.startedAt}`);
      assert.ok(Date.parse(session.lastUsedAt) >= Date.parse(session.startedAt));
      assert.ok(Date.parse(session.expiresAt) > Date.now());
    }
    assert.ok(!api.seen().includes(first.cookie(ferry.issuer, '_session') ?? 'no cookie'), "a session's cookie never leaves the store");

    const ended = await api.delete(`/users/${sub}/sessions/${encodeURIComponent(firstSession!.uid)}`);
    assert.deepEqual([ended.status, ended.body], [200, { ended: 1 }]);
    assert.equal((await api.delete(`/users/${sub}/sessions/${encodeURIComponent(firstSession!.uid)}`)).status, 404, 'it is gone');
    assert.deepEqual(
      (await sessions()).map((session) => session.uid),
      [secondSession.uid],
    );
    assert.equal(await stillSignedIn(ferry, rp, first), false, 'the first browser must sign in again');
    assert.equal(await stillSignedIn(ferry, rp, second), true, 'the second is still signed in');
    await assert.rejects(oidc.refreshTokenGrant(rp, firstTokens.refresh_token!), oauthError('invalid_grant'), "the ended session's refresh token");
    assert.ok((await oidc.refreshTokenGrant(rp, secondTokens.refresh_token!)).access_token, "the other session's refresh token works");

    // On the console: the remaining session, and its End button.
    const browser = await consoleBrowser();
    const page = await browser.get(`${ferry.issuer}/console/users/${sub}`);
    assert.match(page.html, new RegExp(`data-uid="${secondSession.uid}"`));
    const done = await browser.submit(page, '/sessions/end', { uid: secondSession.uid });
    assert.match(done.html, /The session was ended/);
    assert.equal(await stillSignedIn(ferry, rp, second), false, 'ended from the console');
    assert.equal((await api.get('/users/nobody/sessions')).status, 404);
  });

  it('refuses a blocked user with one sentence whatever the password, without checking it, revokes their tokens, and lets them in once unblocked', async () => {
    const browser = new Browser();
    const tokens = await signIn(ferry, rp, browser, USER.email, USER.password);

    const blocked = await api.put(`/users/${sub}/block`);
    assert.equal(blocked.status, 200, blocked.text);
    assert.ok(blocked.body.blockedAt, 'the answer says since when');
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), oauthError('invalid_grant'), 'no refresh');
    assert.deepEqual(await sessions(), [], 'every session ended');
    assert.equal(await stillSignedIn(ferry, rp, browser), false);

    // The right password, a wrong one, more wrong ones than the throttle lets through: one answer.
    for (const password of [USER.password, 'a wrong password', ...Array.from({ length: 7 }, (_, i) => `wrong ${i}`), USER.password]) {
      const page = await tryLogin(ferry, rp, new Browser(), USER.email, password);
      assert.deepEqual([page.status, alertText(page)], [401, BLOCKED], `with password "${password}"`);
    }
    assert.equal((await api.get(`/users/${sub}`)).body.blockedAt, blocked.body.blockedAt);

    const console_ = await consoleBrowser();
    const page = await console_.get(`${ferry.issuer}/console/users/${sub}`);
    assert.match(page.html, /id="block-status">blocked</);
    const unblocked = await console_.submit(page, `/users/${sub}/unblock`);
    assert.match(unblocked.html, /The user is unblocked/);
    assert.equal((await api.get(`/users/${sub}`)).body.blockedAt, undefined);

    // No password was tried while blocked: the throttle let the nine attempts pass uncounted.
    const count = (await api.get(`/users/${sub}`)).body.signInCount;
    const again = await signIn(ferry, rp, new Browser(), USER.email, USER.password);
    assert.ok(again.access_token);
    assert.equal((await api.get(`/users/${sub}`)).body.signInCount, count + 1);

    // Blocked from the console this time.
    const form = await console_.get(`${ferry.issuer}/console/users/${sub}`);
    assert.match((await console_.submit(form, `/users/${sub}/block`)).html, /The user is blocked/);
    assert.equal(alertText(await tryLogin(ferry, rp, new Browser(), USER.email, USER.password)), BLOCKED);
    assert.equal((await api.delete(`/users/${sub}/block`)).status, 200);

    // A token issued while the block was written (a sign-in in flight) escapes the revocation,
    // but a blocked account has no claims: its refresh is refused all the same.
    const late = await signIn(ferry, rp, new Browser(), USER.email, USER.password);
    await ferry.ferry.db.query('update accounts set blocked_at = now() where email = $1', [USER.email]);
    await assert.rejects(oidc.refreshTokenGrant(rp, late.refresh_token!), oauthError('invalid_grant'));
    await ferry.ferry.db.query('update accounts set blocked_at = null where email = $1', [USER.email]);
  });
});

describe('ferry users block, unblock, sessions and end-sessions, against a running server', () => {
  const USER = { email: 'cli-user@example.com', password: 'cli-user-password' };
  let ferry: TestFerry;
  let rp: oidc.Configuration;

  before(async () => {
    ferry = await startFerry({ adminToken: ADMIN_TOKEN, blockedUserMessage: BLOCKED });
    rp = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('does from a shell what the console does', async () => {
    const created = await adminClient(ferry).post('/users', USER);
    const sub = created.body.sub as string;
    const cli = (...args: string[]) => runCli(['users', ...args, '--url', ferry.url, '--token', ADMIN_TOKEN], { cwd: ferry.dataDir });
    const browser = new Browser();
    await signIn(ferry, rp, browser, USER.email, USER.password);

    const listed = await cli('sessions', sub, '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const [session] = JSON.parse(listed.stdout) as { uid: string; clients: string[] }[];
    assert.deepEqual(session!.clients, ['test-app']);
    const ended = await cli('end-sessions', sub, session!.uid);
    assert.deepEqual([ended.code, ended.stdout.trim()], [0, 'Ended 1 session.'], ended.stderr);
    assert.equal(await stillSignedIn(ferry, rp, browser), false);

    const blocked = await cli('block', sub);
    assert.equal(blocked.code, 0, blocked.stderr);
    assert.match(blocked.stdout, new RegExp(`^${sub} is blocked since \\d{4}-`));
    assert.equal(alertText(await tryLogin(ferry, rp, new Browser(), USER.email, USER.password)), BLOCKED);
    const unblocked = await cli('unblock', sub);
    assert.deepEqual([unblocked.code, unblocked.stdout.trim()], [0, `${sub} is not blocked.`], unblocked.stderr);
    assert.ok((await signIn(ferry, rp, new Browser(), USER.email, USER.password)).access_token);

    const unknown = await cli('block', 'nobody');
    assert.equal(unknown.code, 1);
    const usage = await runCli(['users', 'block'], { cwd: ferry.dataDir });
    assert.deepEqual([usage.code, /Use: ferry users block SUB/.test(usage.stderr)], [2, true], usage.stderr);
  });
});

describe('a CUSTOM_USER_STORE user: sign-ins counted and blocked by subject, with no Ferry account', () => {
  const USERS = [
    { email: 'grace@example.com', username: 'grace', name: 'Grace Hopper', password: 'grace-legacy-pw' },
    { email: 'linus@example.com', username: 'linus', name: 'Linus Torvalds', password: 'linus-legacy-pw' },
  ];
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let rp: oidc.Configuration;
  let api: ReturnType<typeof adminClient>;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', USERS);
    ferry = await startFerry({
      adminToken: ADMIN_TOKEN,
      blockedUserMessage: BLOCKED,
      connection: { enabled: true, mode: 'CUSTOM_USER_STORE', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    });
    rp = await relyingParty(ferry);
    api = adminClient(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('counts the sign-in, and a block refuses every identifier of the user and their refresh token until unblocked', async () => {
    const grace = encodeURIComponent(String((await legacy.users())[0]!.id));
    const browser = new Browser();
    const tokens = await signIn(ferry, rp, browser, 'grace@example.com', USERS[0]!.password);
    const seen = await api.get(`/users/${grace}`);
    assert.deepEqual([seen.body.source, seen.body.signInCount, typeof seen.body.lastSignInAt], ['legacy', 1, 'string']);
    assert.equal((await api.get(`/users/${grace}/sessions`)).body.sessions.length, 1);

    const blocked = await api.put(`/users/${grace}/block`);
    assert.equal(blocked.status, 200, blocked.text);
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), oauthError('invalid_grant'));
    assert.equal(await stillSignedIn(ferry, rp, browser), false);
    for (const [identifier, password] of [
      ['grace@example.com', USERS[0]!.password],
      ['GRACE', USERS[0]!.password],
      ['grace@example.com', 'not her password'],
    ] as const) {
      const page = await tryLogin(ferry, rp, new Browser(), identifier, password);
      assert.deepEqual([page.status, alertText(page)], [401, BLOCKED], `${identifier} / ${password}`);
    }
    // Her email changed in the legacy database since the block: refused all the same, by subject, once the login script verified her.
    await legacy.query('update users set email = $1 where username = $2', ['grace.h@example.com', 'grace']);
    const moved = await tryLogin(ferry, rp, new Browser(), 'grace.h@example.com', USERS[0]!.password);
    assert.deepEqual([moved.status, alertText(moved)], [401, BLOCKED], 'a new identifier does not escape the block');
    await legacy.query('update users set email = $1 where username = $2', ['grace@example.com', 'grace']);
    const linus = await signIn(ferry, rp, new Browser(), 'linus', USERS[1]!.password);
    assert.ok(linus.access_token, 'another user of the store is not blocked');
    const accounts = await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts');
    assert.equal(accounts.rows[0]!.n, 0, 'still no Ferry account');

    assert.equal((await api.delete(`/users/${grace}/block`)).status, 200);
    const back = await signIn(ferry, rp, new Browser(), 'grace', USERS[0]!.password);
    assert.ok(back.access_token, 'unblocked, she signs in again');
    assert.equal((await api.get(`/users/${grace}`)).body.signInCount, 2);

    // A user deleted while blocked takes the block along: someone given the same email later is not refused.
    assert.equal((await api.put(`/users/${grace}/block`)).status, 200);
    assert.equal((await api.delete(`/users/${grace}`)).status, 204);
    const again = await api.post('/users', { email: 'grace@example.com', username: 'grace', password: 'a new grace password' });
    assert.equal(again.status, 201, again.text);
    assert.deepEqual([again.body.signInCount, again.body.blockedAt], [0, undefined]);
    assert.ok((await signIn(ferry, rp, new Browser(), 'grace@example.com', 'a new grace password')).access_token);
  });
});
