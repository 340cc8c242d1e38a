import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, alertText, type Page } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';
import { createThrottle } from '../../src/security/throttle.ts';
import { openDatabase } from '../../src/store/index.ts';
import { createThrottleQueries } from '../../src/store/queries/throttle.ts';

const PASSWORD = 'the right passphrase 42';

describe('brute-force throttling', () => {
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    ferry = await startFerry({
      trustProxy: true,
      bruteForce: {
        // No delays here, so that a test can reach the hard limit quickly; the limits are real.
        account: { freeFailures: 100, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 100, resetAfterSeconds: 4 },
        ip: { freeFailures: 150, baseDelayMs: 60_000, maxDelayMs: 60_000, maxFailures: 1_000_000, resetAfterSeconds: 900 },
      },
    });
    config = await relyingParty(ferry);
    for (const email of ['victim@example.com', 'other@example.com']) {
      const { result } = await registerThroughForm(ferry, config, new Browser({ 'x-forwarded-for': '192.0.2.250' }), { email, password: PASSWORD });
      assert.ok(result.url.startsWith(ferry.redirectUri), alertText(result));
    }
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  /** One login page, submitted again and again from one client address. */
  async function loginPage(ip: string): Promise<{ browser: Browser; page: Page }> {
    const browser = new Browser({ 'x-forwarded-for': ip });
    const { page } = await beginAuthorization(ferry, config, browser);
    return { browser, page };
  }

  it('refuses the 101st consecutive failure on an account before looking at the password, and lets the owner in after the window', async () => {
    const ips = Array.from({ length: 10 }, (_, i) => `198.51.100.${i + 1}`);
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        ips.map(async (ip) => {
          const { browser, page } = await loginPage(ip);
          const answer = await browser.submit(page, '/login', { identifier: 'victim@example.com', password: `guess ${ip} ${round}` });
          assert.equal(answer.status, 401, `failure ${round} from ${ip}`);
        }),
      );
    }
    const { browser, page } = await loginPage('203.0.113.7');
    const refused = await browser.submit(page, '/login', { identifier: 'victim@example.com', password: PASSWORD });
    assert.equal(refused.status, 429, 'even the right password is refused: it is not checked');
    assert.match(alertText(refused) ?? '', /Too many unsuccessful attempts/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);

    const other = await signIn(ferry, config, new Browser({ 'x-forwarded-for': '203.0.113.7' }), 'other@example.com', PASSWORD);
    assert.equal(other.claims()!.email, 'other@example.com', 'other accounts are not affected');

    await sleep(4500);
    const owner = await signIn(ferry, config, new Browser({ 'x-forwarded-for': '203.0.113.8' }), 'victim@example.com', PASSWORD);
    assert.equal(owner.claims()!.email, 'victim@example.com', 'no permanent lock-out: the window passed');
  });

  it('throttles a client address on its own: another address is not affected', async () => {
    await ferry.stop();
    ferry = await startFerry(
      {
        trustProxy: true,
        bruteForce: {
          account: { freeFailures: 100, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 100, resetAfterSeconds: 3600 },
          ip: { freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 60_000, maxFailures: 1_000_000, resetAfterSeconds: 900 },
        },
      },
      { port: new URL(ferry.issuer).port ? Number(new URL(ferry.issuer).port) : 0, dataDir: ferry.dataDir },
    );
    config = await relyingParty(ferry);
    const attacker = await loginPage('198.51.100.66');
    for (let i = 0; i < 4; i++) {
      const answer = await attacker.browser.submit(attacker.page, '/login', { identifier: `someone${i}@example.com`, password: 'guess' });
      assert.equal(answer.status, 401);
    }
    const blocked = await attacker.browser.submit(attacker.page, '/login', { identifier: 'other@example.com', password: PASSWORD });
    assert.equal(blocked.status, 429, 'the attacking address waits, whatever account it tries');

    const neighbour = await signIn(ferry, config, new Browser({ 'x-forwarded-for': '198.51.100.67' }), 'other@example.com', PASSWORD);
    assert.equal(neighbour.claims()!.email, 'other@example.com', 'another address signs in');
  });

  it('keeps its counts in the database every instance shares', async () => {
    const { rows } = await ferry.ferry.db.query<{ key: string; failures: number }>("select key, failures from login_throttle where key = 'ip:198.51.100.66'");
    assert.deepEqual(rows, [{ key: 'ip:198.51.100.66', failures: 4 }]);
  });
});

/** The counter of sign-ins with `outcome` (a checked password answers invalid_credentials) in /metrics. */
async function loginCount(ferry: TestFerry, outcome: string, path: string): Promise<number> {
  const text = await (await fetch(`${ferry.issuer}/metrics`)).text();
  return Number(new RegExp(`ferry_logins_total\\{outcome="${outcome}",path="${path}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

async function throttleRow(ferry: TestFerry, key: string) {
  const { rows } = await ferry.ferry.db.query<{ failures: number; delay_seconds: number | null }>(
    'select failures, extract(epoch from blocked_until - last_failure_at)::float8 as delay_seconds from login_throttle where key = $1',
    [key],
  );
  return rows[0];
}

describe('one failure count per account, taken before the password is checked', () => {
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    ferry = await startFerry({
      trustProxy: true,
      bruteForce: {
        account: { freeFailures: 100, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 100, resetAfterSeconds: 3600 },
        ip: { freeFailures: 1000, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 1_000_000, resetAfterSeconds: 900 },
      },
    });
    config = await relyingParty(ferry);
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  const register = async (values: Record<string, string>) => {
    const browser = new Browser({ 'x-forwarded-for': '192.0.2.250' });
    const { result } = await registerThroughForm(ferry, config, browser, { password: PASSWORD, ...values });
    assert.ok(result.url.startsWith(ferry.redirectUri), alertText(result));
    const { rows } = await ferry.ferry.db.query<{ sub: string }>('select sub from accounts where email = $1', [values.email]);
    return rows[0]!.sub;
  };

  /** Login pages opened beforehand, so that their submissions can all arrive at once. */
  const openLoginPages = async (count: number) => {
    const pages: { browser: Browser; page: Page }[] = [];
    for (let i = 0; i < count; i += 10) {
      pages.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(10, count - i) }, async () => {
            const browser = new Browser({ 'x-forwarded-for': '198.51.100.20' });
            return { browser, page: (await beginAuthorization(ferry, config, browser)).page };
          }),
        )),
      );
    }
    return pages;
  };

  it('checks at most 100 of 110 wrong passwords sent at once', async () => {
    const sub = await register({ email: 'parallel@example.com' });
    const pages = await openLoginPages(110);
    const checkedBefore = await loginCount(ferry, 'invalid_credentials', 'local');

    const answers = await Promise.all(
      pages.map(({ browser, page }, i) => browser.submit(page, '/login', { identifier: 'parallel@example.com', password: `guess ${i}` })),
    );

    const statuses = answers.map((answer) => answer.status);
    assert.equal(statuses.filter((status) => status === 401).length, 100, 'exactly 100 passwords were checked and refused');
    assert.equal(statuses.filter((status) => status === 429).length, 10, 'the other 10 were refused unchecked');
    assert.equal((await loginCount(ferry, 'invalid_credentials', 'local')) - checkedBefore, 100, 'the password check ran 100 times');
    assert.equal((await throttleRow(ferry, `account:sub:${sub}`))?.failures, 100);
    const { browser, page } = (await openLoginPages(1))[0]!;
    assert.equal((await browser.submit(page, '/login', { identifier: 'parallel@example.com', password: PASSWORD })).status, 429);
  });

  it('counts failures through the email, the phone and the username against one limit', async () => {
    const sub = await register({ email: 'three@example.com', phone: '+44 20 7946 0999', username: 'three-ids' });
    const identifiers = ['three@example.com', '+442079460999', 'three-ids'];
    const pages = await openLoginPages(100);
    const answers = await Promise.all(
      pages.map(({ browser, page }, i) => browser.submit(page, '/login', { identifier: identifiers[i % 3]!, password: `guess ${i}` })),
    );
    assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [401]);
    assert.equal((await throttleRow(ferry, `account:sub:${sub}`))?.failures, 100);

    for (const identifier of identifiers) {
      const { browser, page } = (await openLoginPages(1))[0]!;
      const refused = await browser.submit(page, '/login', { identifier, password: PASSWORD });
      assert.equal(refused.status, 429, `${identifier}: the 101st attempt is refused, whichever identifier it uses`);
    }
    const { rows } = await ferry.ferry.db.query("select key from login_throttle where key like 'account:%three%' or key like 'account:phone:%'");
    assert.deepEqual(rows, [], 'no count per identifier for an account Ferry knows');
  });

  it('counts wrong current passwords on the password page in the same count as sign-ins, and not a refused new password', async () => {
    const sub = await register({ email: 'changer@example.com' });
    const browser = new Browser({ 'x-forwarded-for': '198.51.100.30' });
    await signIn(ferry, config, browser, 'changer@example.com', PASSWORD);
    const form = await browser.get(`${ferry.issuer}/account/password`);
    for (let i = 0; i < 3; i++) {
      const wrong = await browser.submit(form, '/account/password', {
        current_password: `not it ${i}`,
        password: 'a new passphrase 1',
        password_confirm: 'a new passphrase 1',
      });
      assert.equal(wrong.status, 400);
      assert.match(alertText(wrong) ?? '', /current password is not correct/);
    }
    assert.equal((await throttleRow(ferry, `account:sub:${sub}`))?.failures, 3);

    const common = await browser.submit(form, '/account/password', { current_password: PASSWORD, password: 'iloveyou1', password_confirm: 'iloveyou1' });
    assert.equal(common.status, 400);
    assert.equal((await throttleRow(ferry, `account:sub:${sub}`))?.failures, 3, 'a refused new password is no guess');

    const { browser: other, page } = (await openLoginPages(1))[0]!;
    assert.equal((await other.submit(page, '/login', { identifier: 'changer@example.com', password: 'a sign-in guess' })).status, 401);
    assert.equal((await throttleRow(ferry, `account:sub:${sub}`))?.failures, 4, 'sign-ins add to the same count');
  });
});

describe('progressive delay', () => {
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    ferry = await startFerry({
      bruteForce: {
        account: { freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 3000, maxFailures: 100, resetAfterSeconds: 3600 },
        ip: { freeFailures: 1000, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 1_000_000, resetAfterSeconds: 900 },
      },
    });
    config = await relyingParty(ferry);
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  it('blocks the next attempt for the base delay after the free failures, doubling up to the maximum', async () => {
    await registerThroughForm(ferry, config, new Browser(), { email: 'slow@example.com', password: PASSWORD });
    const { rows } = await ferry.ferry.db.query<{ sub: string }>("select sub from accounts where email = 'slow@example.com'");
    const key = `account:sub:${rows[0]!.sub}`;
    const fail = async () => {
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      return browser.submit(page, '/login', { identifier: 'slow@example.com', password: 'wrong guess' });
    };
    const delays: (number | null)[] = [];
    for (let failure = 1; failure <= 6; failure++) {
      assert.equal((await fail()).status, 401, `failure ${failure}`);
      const row = await throttleRow(ferry, key);
      assert.equal(row?.failures, failure);
      delays.push(row?.delay_seconds ?? null);
      if (failure === 3) assert.equal((await fail()).status, 429, 'blocked while the delay lasts, before the password is checked');
      // Instead of waiting the delay out: end it, keeping the count.
      await ferry.ferry.db.query('update login_throttle set blocked_until = null where key = $1', [key]);
    }
    assert.deepEqual(delays, [null, null, 1, 2, 3, 3]);
  });
});

describe('failures on the legacy login script path', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', [
      { email: 'legacy@example.com', username: 'legacy', name: 'Legacy User', password: PASSWORD },
      { email: 'probed@example.com', username: 'probed', name: 'Probed User', password: PASSWORD },
    ]);
    ferry = await startFerry({
      trustProxy: true,
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
      bruteForce: {
        account: { freeFailures: 100, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 3, resetAfterSeconds: 3600 },
        ip: { freeFailures: 1000, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 1_000_000, resetAfterSeconds: 900 },
      },
    });
    config = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const scriptRuns = async (script: string) => {
    const text = await (await fetch(`${ferry.issuer}/metrics`)).text();
    return [...text.matchAll(new RegExp(`ferry_script_executions_total\\{script="${script}",outcome="[^"]+"\\} (\\d+)`, 'g'))].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
  };
  const loginRuns = () => scriptRuns('login');

  it('counts a password the login script refused, and stops running the script at the limit', async () => {
    for (let i = 0; i < 3; i++) {
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      assert.equal((await browser.submit(page, '/login', { identifier: 'legacy@example.com', password: `guess ${i}` })).status, 401);
    }
    assert.equal((await throttleRow(ferry, 'account:email:legacy@example.com'))?.failures, 3, 'an unmigrated user is counted by identifier');
    assert.equal(await loginRuns(), 3);

    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    assert.equal((await browser.submit(page, '/login', { identifier: 'legacy@example.com', password: PASSWORD })).status, 429);
    assert.equal(await loginRuns(), 3, 'the script did not run for the refused attempt');
  });
  it('throttles registration probes ("already exists") per identifier and per IP, each getUser run counted', async () => {
    const probe = async (values: Record<string, string>, ip: string) => {
      const browser = new Browser({ 'x-forwarded-for': ip });
      const { page } = await beginAuthorization(ferry, config, browser);
      const form = await browser.get(new URL(`${new URL(page.url).pathname}/register`, page.url).href);
      return browser.submit(form, '/register', { password: 'a new passphrase 9', password_confirm: 'a new passphrase 9', ...values });
    };
    const runsBefore = await scriptRuns('getUser');
    for (let i = 0; i < 3; i++) {
      const answer = await probe({ email: 'probed@example.com' }, `198.51.100.${40 + i}`);
      assert.equal(answer.status, 409, `probe ${i}`);
      assert.match(alertText(answer) ?? '', /already exists/);
    }
    assert.equal((await throttleRow(ferry, 'account:email:probed@example.com'))?.failures, 3, 'the identifier counts like a sign-in');
    const refused = await probe({ email: 'probed@example.com' }, '198.51.100.49');
    assert.equal(refused.status, 429, 'the 4th probe of one identifier is refused, from any address');
    assert.match(alertText(refused) ?? '', /Too many unsuccessful attempts/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await scriptRuns('getUser')) - runsBefore, 3, 'getUser did not run for the refused probe');

    // One address probing three identifiers at once: each getUser run is an attempt on the address.
    const answer = await probe({ email: 'nobody-1@example.com', phone: '+44 20 7946 0111', username: 'probed' }, '198.51.100.60');
    assert.equal(answer.status, 409);
    assert.equal((await throttleRow(ferry, 'ip:198.51.100.60'))?.failures, 3);

    const created = await probe({ email: 'fresh@example.com', username: 'fresh' }, '198.51.100.61');
    assert.ok(created.url.startsWith(ferry.redirectUri) || created.url.includes('/interaction/'), `${created.status} ${alertText(created)}`);
    assert.equal((await throttleRow(ferry, 'ip:198.51.100.61'))?.failures, 0, 'a registration that succeeds hands back every attempt it took');
  });
});

describe('reservations on PostgreSQL under real concurrency', () => {
  it('lets exactly maxFailures of 110 parallel attempts through, and hands back what it is given back', async () => {
    await postgresReachable();
    const database = await createPostgresDatabase();
    const db = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    try {
      const policy = { freeFailures: 1000, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 100, resetAfterSeconds: 3600 };
      const throttle = createThrottle(createThrottleQueries(db), { account: policy, ip: { ...policy, maxFailures: 1_000_000 } });
      const keys = throttle.keys({ sub: 'parallel' }, undefined);
      const reservations = await Promise.all(Array.from({ length: 110 }, () => throttle.reserve(keys)));
      assert.equal(reservations.filter((reservation) => reservation.allowed).length, 100);
      const refused = reservations.find((reservation) => !reservation.allowed);
      assert.ok(refused && !refused.allowed && refused.retryAfterSeconds > 3500, 'refused until the window passes');

      // Five that got through (which ones did is up to the database: not necessarily the first five sent).
      const allowed = reservations.filter((reservation) => reservation.allowed);
      await Promise.all(allowed.slice(0, 5).map((reservation) => throttle.release(reservation)));
      const { rows } = await db.query<{ failures: number }>("select failures from login_throttle where key = 'account:sub:parallel'");
      assert.equal(rows[0]?.failures, 95, 'attempts without a verdict are handed back');
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

describe('a burst right after a block ends', () => {
  it('has one of 30 parallel attempts checked, the reservation itself blocking the rest', async () => {
    await postgresReachable();
    const database = await createPostgresDatabase();
    const db = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    try {
      const policy = { freeFailures: 2, baseDelayMs: 60_000, maxDelayMs: 60_000, maxFailures: 100, resetAfterSeconds: 3600 };
      const throttle = createThrottle(createThrottleQueries(db), { account: policy, ip: { ...policy, maxFailures: 1_000_000 } });
      const keys = throttle.keys({ sub: 'burst' }, undefined);
      // Five failures, the last block just over: the state the burst arrived in.
      await db.query(
        "insert into login_throttle (key, failures, last_failure_at, blocked_until) values ('account:sub:burst', 5, now(), now() - interval '1 second')",
      );
      const reservations = await Promise.all(Array.from({ length: 30 }, () => throttle.reserve(keys)));
      assert.equal(reservations.filter((reservation) => reservation.allowed).length, 1, 'one attempt is checked');
      const refused = reservations.find((reservation) => !reservation.allowed);
      assert.ok(refused && !refused.allowed && refused.retryAfterSeconds > 50, 'the others wait for the delay that attempt would bring');

      await throttle.release(reservations.find((reservation) => reservation.allowed)!);
      const again = await throttle.reserve(keys);
      assert.ok(again.allowed, 'an attempt handed back lifts its block');
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

describe('the client address behind a trusted proxy', () => {
  const ADMIN_TOKEN = 'proxy-test-admin-token-0123456789abcdef';
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    ferry = await startFerry({
      trustProxy: true,
      adminToken: ADMIN_TOKEN,
      bruteForce: {
        account: { freeFailures: 100, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 100, resetAfterSeconds: 3600 },
        ip: { freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 60_000, maxFailures: 1_000_000, resetAfterSeconds: 900 },
      },
    });
    config = await relyingParty(ferry);
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  /** What the proxy sends on: whatever X-Forwarded-For the client made up, then the address it saw. */
  const forwarded = (forged: string, seen: string) => ({ 'x-forwarded-for': `${forged}, ${seen}` });

  it('throttles sign-ins by the address the proxy saw, whatever the client puts in front of it', async () => {
    for (let i = 0; i < 4; i++) {
      const browser = new Browser(forwarded(`203.0.113.${i + 1}`, '198.51.100.77'));
      const { page } = await beginAuthorization(ferry, config, browser);
      assert.equal((await browser.submit(page, '/login', { identifier: `nobody${i}@example.com`, password: 'guess' })).status, 401);
    }
    const browser = new Browser(forwarded('203.0.113.99', '198.51.100.77'));
    const { page } = await beginAuthorization(ferry, config, browser);
    assert.equal(
      (await browser.submit(page, '/login', { identifier: 'nobody9@example.com', password: 'guess' })).status,
      429,
      'a new forged address does not help',
    );
    const { rows } = await ferry.ferry.db.query<{ key: string; failures: number }>("select key, failures from login_throttle where key like 'ip:%'");
    assert.deepEqual(rows, [{ key: 'ip:198.51.100.77', failures: 4 }]);
  });

  it('rate-limits the admin API by the address the proxy saw', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(`${ferry.issuer}/api/v1/connection`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } });
    const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => call(forwarded(`203.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, '198.51.100.88'))));
    assert.ok(
      answers.some((answer) => answer.status === 429),
      'forged addresses share the bucket of the address the proxy saw',
    );
    assert.equal((await call(forwarded('203.0.113.1', '198.51.100.89'))).status, 200, 'another client is not affected');
  });
});
