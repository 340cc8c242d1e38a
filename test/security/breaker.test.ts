import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import type { z } from 'zod';
import { connectionSchema } from '../../src/config/schema.ts';
import { createBreaker } from '../../src/connection/breaker.ts';
import type { Connection } from '../../src/connection/connection.ts';
import type { ExecutionLog } from '../../src/connection/execution-log.ts';
import { createScriptRunner } from '../../src/connection/scripts.ts';
import type { ConnectionSettings } from '../../src/connection/settings.ts';
import type { Outcome, RunRequest, Sandbox } from '../../src/sandbox/index.ts';
import { Browser } from '../helpers/browser.ts';
import { freePort, removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES } from '../helpers/legacy.ts';
import { beginAuthorization, relyingParty } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

const OK: Outcome = { ok: true, value: { id: 1 }, logs: [], durationMs: 1 };
const DOWN: Outcome = { ok: false, kind: 'unavailable', message: 'connect ECONNREFUSED', logs: [], durationMs: 1 };

/** A sandbox whose executions finish when the test says so: the runner's guards are what is tested. */
function heldSandbox() {
  const calls: { request: RunRequest; finish(outcome: Outcome): void }[] = [];
  const sandbox = {
    run: (request: RunRequest) => new Promise<Outcome>((finish) => calls.push({ request, finish })),
  } as unknown as Sandbox;
  return { sandbox, calls };
}

function runnerWith(sandbox: Sandbox) {
  const settings = { script: async () => ({ source: 'async function login() {}', origin: 'default' }) } as unknown as ConnectionSettings;
  const executions = { record() {} } as unknown as ExecutionLog;
  return createScriptRunner({ sandbox, settings, executions });
}

const connectionWith = (config: z.input<typeof connectionSchema>): Connection => ({ ...connectionSchema.parse({ enabled: true, ...config }), id: 'test' });

/** Lets the runner's awaits (the script source, the limiter) settle. */
const settle = () => sleep(20);

describe('circuit breaker', () => {
  it('re-opens when the half-open probe fails, closes when it succeeds, and frees the probe slot when the probe never ran', async () => {
    const breaker = createBreaker({ failureThreshold: 2, openMs: 50 });
    breaker.record('timeout');
    assert.equal(breaker.state, 'closed');
    breaker.record('unavailable');
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allow(), false, 'open: nothing runs');

    await sleep(60);
    assert.equal(breaker.allow(), true, 'the probe');
    assert.equal(breaker.state, 'half_open');
    assert.equal(breaker.allow(), false, 'one probe at a time');
    breaker.record('timeout');
    assert.equal(breaker.state, 'open', 'a failed probe opens it again');
    assert.equal(breaker.allow(), false, 'for a whole openMs');

    await sleep(60);
    assert.equal(breaker.allow(), true);
    breaker.abandon();
    assert.equal(breaker.allow(), true, 'a probe that did not run gives its place to the next');
    breaker.record('script_error');
    assert.equal(breaker.state, 'closed', 'a script error is the database answering');
    assert.equal(breaker.allow(), true);
  });

  it('lets one probe through the runner at a time; a failed probe keeps scripts from running for another openSeconds', async () => {
    const { sandbox, calls } = heldSandbox();
    const runner = runnerWith(sandbox);
    const connection = connectionWith({ breaker: { failureThreshold: 2, openSeconds: 1 } });
    const run = () => runner.run(connection, 'login', []);

    const failing = [run(), run()];
    await settle();
    for (const call of calls) call.finish(DOWN);
    await Promise.all(failing);
    assert.equal(runner.status(connection).breaker, 'open');
    const skipped = await run();
    assert.ok(!skipped.ok && /circuit breaker is open/.test(skipped.message));
    assert.equal(calls.length, 2, 'the skipped execution never reached the sandbox');

    await sleep(1050);
    const probe = run();
    const second = await run();
    await settle();
    assert.equal(calls.length, 3, 'only the probe reached the sandbox');
    assert.ok(!second.ok && /circuit breaker is open/.test(second.message), 'the second was skipped while the probe ran');
    assert.equal(runner.status(connection).breaker, 'half_open');
    calls[2]!.finish(DOWN);
    await probe;
    assert.equal(runner.status(connection).breaker, 'open', 'the failed probe opened it again');
    assert.ok(!(await run()).ok);
    assert.equal(calls.length, 3);

    await sleep(1050);
    const recovered = run();
    await settle();
    calls[3]!.finish(OK);
    assert.ok((await recovered).ok);
    assert.equal(runner.status(connection).breaker, 'closed');
    const both = [run(), run()];
    await settle();
    assert.equal(calls.length, 6, 'closed: every execution runs');
    for (const call of calls.slice(4)) call.finish(OK);
    await Promise.all(both);
  });
});

describe('concurrent script cap per connection (per instance)', () => {
  it('runs at most maxConcurrentScripts at once; the rest wait in order, and the wait counts against their deadline', async () => {
    const { sandbox, calls } = heldSandbox();
    const runner = runnerWith(sandbox);
    const connection = connectionWith({ maxConcurrentScripts: 2, limits: { timeoutMs: 10_000 } });

    const submitted: number[] = [];
    const runs = Array.from({ length: 4 }, (_, i) => {
      submitted.push(Date.now());
      return runner.run(connection, 'login', [i]);
    });
    await settle();
    assert.deepEqual(
      calls.map((call) => call.request.args[0]),
      [0, 1],
    );
    assert.deepEqual(runner.status(connection), { breaker: 'closed', running: 2, waiting: 2 });

    await sleep(100);
    calls[0]!.finish(OK);
    await settle();
    assert.deepEqual(
      calls.map((call) => call.request.args[0]),
      [0, 1, 2],
      'a freed place goes to the first in line',
    );
    assert.ok(calls[2]!.request.deadline! <= submitted[2]! + 10_000 + 5, 'its deadline runs from when it asked, not from when it got its turn');
    assert.deepEqual(runner.status(connection), { breaker: 'closed', running: 2, waiting: 1 });

    for (const call of calls.slice(1)) call.finish(OK);
    await settle();
    calls[3]!.finish(OK);
    assert.ok((await Promise.all(runs)).every((outcome) => outcome.ok));
    assert.deepEqual(runner.status(connection), { breaker: 'closed', running: 0, waiting: 0 });
  });

  it('refuses an execution still waiting at its deadline without running it, and without counting it against the breaker', async () => {
    const { sandbox, calls } = heldSandbox();
    const runner = runnerWith(sandbox);
    const connection = connectionWith({ maxConcurrentScripts: 1, breaker: { failureThreshold: 1, openSeconds: 60 }, limits: { timeoutMs: 300 } });

    const holder = runner.run(connection, 'login', ['holder']);
    const waiting = await Promise.all([runner.run(connection, 'login', ['a']), runner.run(connection, 'login', ['b'])]);
    for (const outcome of waiting) {
      assert.ok(!outcome.ok);
      assert.equal(outcome.kind, 'unavailable');
      assert.match(outcome.message, /Too many scripts are running for this connection \(the limit is 1\)/);
    }
    assert.equal(calls.length, 1, 'the refused executions never reached the sandbox');
    assert.equal(runner.status(connection).breaker, 'closed', 'a full queue says nothing about the legacy database');
    calls[0]!.finish(OK);
    assert.ok((await holder).ok);
  });
});

describe('breaker and pool gauges in /metrics', () => {
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    // A legacy database address where nothing listens: every login script execution is unavailable.
    const closed = await freePort();
    ferry = await startFerry({
      connection: {
        enabled: true,
        mode: 'LAZY_MIGRATION',
        env: { DB_CONNECTION_URI: `postgres://nobody@127.0.0.1:${closed}/nothing` },
        scriptsDir: join(TEMPLATES, 'postgres'),
        breaker: { failureThreshold: 2, openSeconds: 60 },
      },
    });
    config = await relyingParty(ferry);
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  const breakerState = async () => /ferry_breaker_state\{connection="default"\} (\d)/.exec(await (await fetch(`${ferry.issuer}/metrics`)).text())?.[1];

  it('reports the breaker before any script ran, when it opens, and for the new breaker after a settings change', async () => {
    assert.equal(await breakerState(), '0', 'closed, before anything happened');
    for (let i = 0; i < 2; i++) {
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      assert.equal((await browser.submit(page, '/login', { identifier: `unmigrated${i}@example.com`, password: 'a password' })).status, 503);
    }
    assert.equal(await breakerState(), '2', 'open');

    await ferry.ferry.federation.settings.save({ breaker: { failureThreshold: 3, openSeconds: 60 } });
    assert.equal(await breakerState(), '0', 'the settings in force have a new, closed breaker');
  });

  it('has no pool gauges with the embedded database', async () => {
    assert.doesNotMatch(await (await fetch(`${ferry.issuer}/metrics`)).text(), /ferry_store_pool_connections\{/);
  });

  it("reports Ferry's own PostgreSQL pool: its connections, idle ones, and queries waiting for one", async () => {
    await postgresReachable();
    const store = await createPostgresDatabase();
    const onPostgres = await startFerry({ databaseUrl: store.url });
    try {
      const gauges = async () => {
        const text = await (await fetch(`${onPostgres.issuer}/metrics`)).text();
        return Object.fromEntries([...text.matchAll(/ferry_store_pool_connections\{state="(\w+)"\} (\d+)/g)].map((match) => [match[1], Number(match[2])]));
      };
      const quiet = await gauges();
      assert.ok(quiet.total! >= 1 && quiet.idle! <= quiet.total! && quiet.waiting === 0, JSON.stringify(quiet));

      // Twelve slow queries on a pool of ten: all ten connections busy, two queries waiting.
      const slow = Promise.all(Array.from({ length: 12 }, () => onPostgres.ferry.db.query('select pg_sleep(1.5)')));
      await sleep(500);
      const busy = await gauges();
      await slow;
      assert.equal(busy.total, 10, JSON.stringify(busy));
      assert.ok(busy.waiting! >= 2, `queries wait for a connection: ${JSON.stringify(busy)}`);
    } finally {
      await onPostgres.stop();
      await store.drop();
      removeDataDir(onPostgres.dataDir);
    }
  });
});
