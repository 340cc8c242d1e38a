import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, alertText, type Page } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';

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
    ferry = await startFerry({
      trustProxy: true,
      bruteForce: {
        account: { freeFailures: 100, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 100, resetAfterSeconds: 3600 },
        ip: { freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 60_000, maxFailures: 1_000_000, resetAfterSeconds: 900 },
      },
    }, { port: new URL(ferry.issuer).port ? Number(new URL(ferry.issuer).port) : 0, dataDir: ferry.dataDir });
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
