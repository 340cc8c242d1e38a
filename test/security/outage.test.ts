import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, createOutageProxy, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

const legacyUsers = Array.from({ length: 12 }, (_, i) => ({ email: `user${i}@example.com`, username: `user${i}`, name: `User ${i}`, password: `legacy password ${i}` }));

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
        breaker: { failureThreshold: 3, openSeconds: 2 },
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

  async function attempt(identifier: string, password: string) {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    const started = performance.now();
    const answer = await browser.submit(page, '/login', { identifier, password }, ferry.redirectUri);
    return { answer, took: performance.now() - started };
  }

  it('keeps local and migrated users signing in, answers unmigrated ones fast once the breaker opens, and recovers', async () => {
    const burst = async (round: number) =>
      Promise.all([
        signIn(ferry, config, new Browser(), 'local@example.com', 'a local password 1').then(() => 'ok', (error: Error) => error.message),
        ...[0, 1, 2].map((i) => signIn(ferry, config, new Browser(), `user${i}@example.com`, `legacy password ${i}`).then(() => 'ok', (error: Error) => error.message)),
        attempt(`user${3 + (round % 9)}@example.com`, `legacy password ${3 + (round % 9)}`),
      ]);

    await proxy.cut();
    const rounds = [];
    for (let round = 0; round < 6; round++) rounds.push(await burst(round));
    for (const [round, results] of rounds.entries()) {
      assert.deepEqual(results.slice(0, 4), ['ok', 'ok', 'ok', 'ok'], `round ${round}: local and migrated users sign in during the outage`);
      const unmigrated = results[4] as Awaited<ReturnType<typeof attempt>>;
      assert.equal(unmigrated.answer.status, 503, `round ${round}`);
      assert.match(alertText(unmigrated.answer) ?? '', /temporarily unavailable/);
    }

    const metrics = await (await fetch(`${ferry.issuer}/metrics`)).text();
    assert.match(metrics, /ferry_breaker_state\{connection="default"\} 2/, 'the breaker is open');
    assert.match(metrics, /ferry_script_executions_total\{script="login",outcome="skipped"\} [1-9]/, 'scripts were skipped, not run');
    const open = await attempt('user10@example.com', 'legacy password 10');
    assert.equal(open.answer.status, 503);
    assert.ok(open.took < 1000, `answered in ${Math.round(open.took)} ms without waiting for the database`);

    await proxy.restore();
    await sleep(2100);
    const back = await signIn(ferry, config, new Browser(), 'user11@example.com', 'legacy password 11');
    assert.equal(back.claims()!.email, 'user11@example.com', 'the half-open probe succeeds and closes the breaker');
    const after = await (await fetch(`${ferry.issuer}/metrics`)).text();
    assert.match(after, /ferry_breaker_state\{connection="default"\} 0/);
  });
});
