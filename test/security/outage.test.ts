import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, createOutageProxy, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, consentIfAsked, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

const legacyUsers = Array.from({ length: 24 }, (_, i) => ({
  email: `user${i}@example.com`,
  username: `user${i}`,
  name: `User ${i}`,
  password: `legacy password ${i}`,
}));
/** The scripts' deadline: what an unmigrated user waits while the breaker is still closed. */
const TIMEOUT_MS = 2500;
const THRESHOLD = 3;
const OPEN_SECONDS = 3;

describe('legacy database outage during a login burst', () => {
  let legacy: LegacyDatabase;
  let proxy: Awaited<ReturnType<typeof createOutageProxy>>;
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', legacyUsers);
    proxy = await createOutageProxy({ host: legacy.host, port: legacy.port });
    const url = new URL(legacy.url);
    url.host = `127.0.0.1:${proxy.port}`;
    ferry = await startFerry({
      connection: {
        enabled: true,
        mode: 'LAZY_MIGRATION',
        env: { DB_CONNECTION_URI: url.href },
        scriptsDir: join(TEMPLATES, 'postgres'),
        limits: { timeoutMs: TIMEOUT_MS },
        breaker: { failureThreshold: THRESHOLD, openSeconds: OPEN_SECONDS },
      },
    });
    config = await relyingParty(ferry);
    await registerThroughForm(ferry, config, new Browser(), { email: 'local@example.com', password: 'a local password 1' });
    for (const i of [0, 1, 2]) await signIn(ferry, config, new Browser(), `user${i}@example.com`, `legacy password ${i}`);
  });

  after(async () => {
    await ferry?.stop();
    await proxy?.close();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  /** One submission of the login form, timed from the POST to the answer; then consent, if asked. */
  async function attempt(user: number) {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    const started = performance.now();
    const answer = await browser.submit(page, '/login', { identifier: `user${user}@example.com`, password: `legacy password ${user}` }, ferry.redirectUri);
    const took = performance.now() - started;
    return { user, answer: await consentIfAsked(ferry, browser, answer), took };
  }

  const breakerState = async () => /ferry_breaker_state\{connection="default"\} (\d)/.exec(await (await fetch(`${ferry.issuer}/metrics`)).text())?.[1];

  it('keeps local and migrated users signing in; unmigrated users wait for the deadline until the breaker opens, then are answered at once; it recovers', async (t) => {
    // Local and migrated users sign in over and over for the whole test.
    let bursting = true;
    const steady = (async () => {
      const failures: string[] = [];
      let rounds = 0;
      while (bursting) {
        const results = await Promise.all([
          signIn(ferry, config, new Browser(), 'local@example.com', 'a local password 1').then(
            () => 'ok',
            (error: Error) => `local: ${error.message}`,
          ),
          ...[0, 1, 2].map((i) =>
            signIn(ferry, config, new Browser(), `user${i}@example.com`, `legacy password ${i}`).then(
              () => 'ok',
              (error: Error) => `user${i}: ${error.message}`,
            ),
          ),
        ]);
        failures.push(...results.filter((result) => result !== 'ok'));
        rounds += 1;
      }
      return { failures, rounds };
    })();

    try {
      const healthy = await attempt(3);
      assert.ok(healthy.answer.url.startsWith(ferry.redirectUri), 'an unmigrated user signs in before the outage');

      // The legacy database stops answering, without refusing anything: only deadlines end the waits.
      await proxy.cut('blackhole');
      const outage: Awaited<ReturnType<typeof attempt>>[] = [];
      for (let wave = 0; wave < 6; wave++) outage.push(...(await Promise.all([attempt(4 + wave * 2), attempt(5 + wave * 2)])));

      for (const { user, answer } of outage) {
        assert.equal(answer.status, 503, `user${user}`);
        assert.match(alertText(answer) ?? '', /temporarily unavailable/);
      }
      const slow = outage.filter(({ took }) => took >= TIMEOUT_MS * 0.8);
      const fast = outage.filter(({ took }) => took < TIMEOUT_MS * 0.5);
      t.diagnostic(`outage answers (ms, in order): ${outage.map(({ took }) => Math.round(took)).join(', ')}`);
      assert.equal(slow.length + fast.length, outage.length, 'each answer either waited for the deadline or did not wait at all');
      assert.ok(slow.length >= THRESHOLD, `${THRESHOLD} timeouts opened the breaker, each after the deadline`);
      assert.ok(fast.length >= 4, 'then the answers came at once');
      const lastSlow = outage.findLastIndex(({ took }) => took >= TIMEOUT_MS * 0.8);
      assert.ok(lastSlow < outage.indexOf(fast[0]!), 'every slow answer came before the breaker opened, every fast one after');
      assert.equal(await breakerState(), '2', 'the breaker is open');
      assert.match(
        await (await fetch(`${ferry.issuer}/metrics`)).text(),
        /ferry_script_executions_total\{script="login",outcome="skipped"\} [1-9]/,
        'scripts were skipped, not run',
      );

      // The database comes back: after openSeconds a probe closes the breaker.
      await proxy.restore();
      let back: Awaited<ReturnType<typeof attempt>> | undefined;
      for (let tries = 0; tries < 5 && !back?.answer.url.startsWith(ferry.redirectUri); tries++) {
        await sleep(OPEN_SECONDS * 1000 + 200);
        back = await attempt(20 + tries);
      }
      assert.ok(back?.answer.url.startsWith(ferry.redirectUri), `an unmigrated user signs in again: ${back?.answer.status}`);
      assert.equal(await breakerState(), '0');
      const next = await attempt(23);
      assert.ok(next.answer.url.startsWith(ferry.redirectUri), 'and the next one');
    } finally {
      bursting = false;
    }
    const { failures, rounds } = await steady;
    t.diagnostic(`${rounds} rounds of local and migrated sign-ins`);
    assert.deepEqual(failures, [], 'local and migrated users signed in throughout');
    assert.ok(rounds >= 3);
  });
});
