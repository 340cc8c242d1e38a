import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createLogger } from '../../src/log.ts';
import { createSandbox, type LimitsInput, type Outcome } from '../../src/sandbox/index.ts';
import { MYSQL_ADMIN, PG_ADMIN_URL, createMysqlDatabase, createPostgresDatabase, needService, postgresReachable } from '../helpers/services.ts';

type Sandbox = ReturnType<typeof createSandbox>;

function valueOf<T>(outcome: Outcome): T {
  assert.ok(outcome.ok, outcome.ok ? '' : `${outcome.kind}: ${outcome.message}`);
  return outcome.value as T;
}

const run = (sandbox: Sandbox, source: string, args: unknown[], limits: LimitsInput = {}) =>
  sandbox.run({ name: 'main', source, args, limits: { poolSize: 1, ...limits } });

describe('pooled legacy connections behind connect() and end()', () => {
  let postgres: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let mariadb: Awaited<ReturnType<typeof createMysqlDatabase>> | undefined;
  let sandbox: Sandbox;
  const mysqlUrl = () => mariadb!.url;

  before(async () => {
    sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 8 });
  });
  after(async () => {
    await sandbox.close();
    await postgres?.drop();
    await mariadb?.drop();
  });

  async function needPostgres(t: Parameters<typeof needService>[0]) {
    if (!(await needService(t, 'PostgreSQL', postgresReachable))) return false;
    postgres ??= await createPostgresDatabase('ferry_pooling');
    return true;
  }
  async function needMysql(t: Parameters<typeof needService>[0]) {
    if (!(await needService(t, 'MariaDB', async () => (await mysql.createConnection(MYSQL_ADMIN)).end()))) return false;
    mariadb ??= await createMysqlDatabase('ferry_pooling');
    return true;
  }

  /** Connections open to the test databases, as the servers count them. */
  async function serverConnections(): Promise<{ postgres: number; mysql: number }> {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const my = await mysql.createConnection(MYSQL_ADMIN);
    try {
      const p = postgres ? Number((await admin.query('select count(*) as n from pg_stat_activity where datname = $1', [postgres.name])).rows[0].n) : 0;
      const [rows] = await my.query('select count(*) as n from information_schema.processlist where db = ?', [mariadb?.name ?? '']);
      return { postgres: p, mysql: Number((rows as { n: number }[])[0]!.n) };
    } finally {
      await admin.end();
      await my.end();
    }
  }

  it('gives the next script the same PostgreSQL connection with its session reset', async (t) => {
    if (!(await needPostgres(t))) return;
    const dirty = await run(
      sandbox,
      `async function main(url) {
      const client = new (require('pg').Client)(url);
      await client.connect();
      await client.query("SET application_name = 'dirty'");
      await client.query('CREATE TEMP TABLE leftover (a int)');
      await client.query('BEGIN');
      await client.query('INSERT INTO leftover VALUES (1)');
      const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
      client.end();
      return rows[0].pid;
    }`,
      [postgres!.url],
    );
    const clean = await run(
      sandbox,
      `async function main(url) {
      const client = new (require('pg').Client)(url);
      await client.connect();
      try {
        const { rows } = await client.query("SELECT pg_backend_pid() AS pid, current_setting('application_name') AS app, to_regclass('pg_temp.leftover') AS temp, now() = statement_timestamp() AS fresh_transaction");
        return rows[0];
      } finally {
        await client.end();
      }
    }`,
      [postgres!.url],
    );
    assert.deepEqual(valueOf(clean), { pid: valueOf(dirty), app: '', temp: null, fresh_transaction: true });
  });

  it('gives the next script the same MariaDB connection with its session reset', async (t) => {
    if (!(await needMysql(t))) return;
    const dirty = await run(
      sandbox,
      `async function main(url) {
      const connection = await require('mysql2/promise').createConnection(url);
      await connection.query('SET @left = 42');
      await connection.query('CREATE TEMPORARY TABLE leftover (a int)');
      await connection.query('START TRANSACTION');
      const [rows] = await connection.query('SELECT CONNECTION_ID() AS id');
      await connection.end();
      return rows[0].id;
    }`,
      [mysqlUrl()],
    );
    const clean = await run(
      sandbox,
      `async function main(url) {
      const connection = await require('mysql2/promise').createConnection(url);
      try {
        const [rows] = await connection.query('SELECT CONNECTION_ID() AS id, @left AS leftover, @@in_transaction AS in_transaction');
        let temp = 'gone';
        try { await connection.query('SELECT * FROM leftover'); temp = 'still there'; } catch {}
        return { ...rows[0], temp };
      } finally {
        await connection.end();
      }
    }`,
      [mysqlUrl()],
    );
    assert.deepEqual(valueOf(clean), { id: valueOf(dirty), leftover: null, in_transaction: 0, temp: 'gone' });
  });

  it('serves many concurrent scripts with at most poolSize connections, each getting its own answer', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const script = `async function main(pgUrl, mysqlUrl, n) {
      const client = new (require('pg').Client)(pgUrl);
      await client.connect();
      const connection = await require('mysql2/promise').createConnection(mysqlUrl);
      try {
        const a = (await client.query('SELECT $1::int * 2 AS v, pg_sleep(0.05)', [n])).rows[0].v;
        const b = (await connection.query('SELECT ? * 3 AS v, SLEEP(0.05) AS s', [n]))[0][0].v;
        return [a, b];
      } finally {
        client.end();
        await connection.end();
      }
    }`;
    let peak = { postgres: 0, mysql: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await serverConnections();
        peak = { postgres: Math.max(peak.postgres, now.postgres), mysql: Math.max(peak.mysql, now.mysql) };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, n) => run(sandbox, script, [postgres!.url, mysqlUrl(), n], { poolSize: 3 })));
    sampling = false;
    await sampler;
    outcomes.forEach((outcome, n) => {
      assert.deepEqual(valueOf(outcome), [n * 2, n * 3]);
    });
    assert.ok(peak.postgres <= 4 && peak.mysql <= 4, `at most 3 pooled connections per database (+ the one of the earlier test): ${JSON.stringify(peak)}`);
    assert.equal(sandbox.connectionStats().pg?.active, 0, 'every connection went back');
  });

  it('keeps one pool for a connection whatever part of its deadline an execution has left', async (t) => {
    if (!(await needPostgres(t))) return;
    // As Ferry runs scripts: the same limits, and a deadline shortened by the wait for a turn.
    const script = `async function main(url) {
      const client = new (require('pg').Client)(url);
      await client.connect();
      try { return (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid; } finally { await client.end(); }
    }`;
    const pids = new Set<number>();
    for (let wait = 0; wait < 12; wait += 1) {
      const outcome = await sandbox.run({
        name: 'main',
        source: script,
        args: [postgres!.url],
        limits: { poolSize: 1, timeoutMs: 4000 },
        deadline: Date.now() + 4000 - wait * 37,
      });
      pids.add(valueOf<number>(outcome));
    }
    assert.equal(pids.size, 1, 'every execution had the same pooled connection');
  });

  it('closes the least recently used pool rather than keep one for every distinct setting', async (t) => {
    if (!(await needPostgres(t))) return;
    const isolated = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 2 });
    try {
      // A script whose settings differ on every call (here its application_name).
      const script = `async function main(url, n) {
        const client = new (require('pg').Client)({ connectionString: url, application_name: 'ferry-lru-' + n });
        await client.connect();
        try { return (await client.query('SELECT 1 AS one')).rows[0].one; } finally { await client.end(); }
      }`;
      for (let n = 0; n < 40; n += 1) valueOf(await run(isolated, script, [postgres!.url, n]));
      const open = isolated.connectionStats().pg?.total ?? 0;
      assert.ok(open >= 1 && open <= 16, `pooled connections kept after 40 distinct settings: ${open}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const { rows } = await admin.query("select count(*)::int as n from pg_stat_activity where application_name like 'ferry-lru-%'");
      await admin.end();
      assert.ok(rows[0].n <= 16, `the server sees ${rows[0].n} of them`);
    } finally {
      await isolated.close();
    }
  });

  it('replaces a pooled connection whose server process was killed, idle or in the middle of a query', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const identity = `async function main(pgUrl, mysqlUrl) {
      const client = new (require('pg').Client)(pgUrl);
      await client.connect();
      const connection = await require('mysql2/promise').createConnection(mysqlUrl);
      try {
        return { pg: (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, mysql: (await connection.query('SELECT CONNECTION_ID() AS id'))[0][0].id };
      } finally {
        client.end();
        await connection.end();
      }
    }`;
    const first = valueOf<{ pg: number; mysql: number }>(await run(sandbox, identity, [postgres!.url, mysqlUrl()]));
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const my = await mysql.createConnection(MYSQL_ADMIN);
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [first.pg]);
      await my.query(`KILL ${Number(first.mysql)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = valueOf<{ pg: number; mysql: number }>(await run(sandbox, identity, [postgres!.url, mysqlUrl()]));
      assert.notEqual(second.pg, first.pg, 'a new PostgreSQL connection replaced the killed one');
      assert.notEqual(second.mysql, first.mysql, 'a new MariaDB connection replaced the killed one');

      // Killed while a script is waiting on its query: that script fails, the next one is served.
      const busy = run(
        sandbox,
        `async function main(url) {
        const client = new (require('pg').Client)(url);
        await client.connect();
        try { await client.query('SELECT pg_sleep(5)'); } finally { client.end(); }
      }`,
        [postgres!.url],
        { timeoutMs: 4000 },
      );
      let killed: number | undefined;
      for (let i = 0; i < 100 && killed === undefined; i++) {
        const { rows } = await admin.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep(5)%'", [postgres!.name]);
        if (rows[0]) {
          killed = rows[0].pid as number;
          await admin.query('SELECT pg_terminate_backend($1)', [killed]);
        } else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(killed, 'the query was seen running');
      const failed = await busy;
      assert.equal(failed.ok, false);
      assert.equal((failed as { kind: string }).kind, 'unavailable', 'the lost connection counts as the database being unavailable');
      // The same settings (timeoutMs 4000), so the same pool: it must not hand out the dead connection.
      const third = valueOf<{ pg: number }>(await run(sandbox, identity, [postgres!.url, mysqlUrl()], { timeoutMs: 4000 }));
      assert.notEqual(third.pg, killed);
    } finally {
      await admin.end();
      await my.end();
    }
  });

  it('makes a script wait for a free connection within its deadline, and answers unavailable past it', async (t) => {
    if (!(await needPostgres(t))) return;
    // Each holds a pooled connection for a while; an explicit statement_timeout keeps every run on one pool.
    const hold = `async function main(url, ms) {
      const client = new (require('pg').Client)({ connectionString: url, statement_timeout: 400 });
      await client.connect();
      try {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return (await client.query('SELECT 1 AS done')).rows[0].done;
      } finally { client.end(); }
    }`;
    const waited = await Promise.all([400, 400, 400].map((ms) => run(sandbox, hold, [postgres!.url, ms], { poolSize: 2, timeoutMs: 3000 })));
    for (const outcome of waited) assert.equal(valueOf(outcome), 1, 'the third script waited for a connection and got one');

    const [a, b, late] = await Promise.all([
      run(sandbox, hold, [postgres!.url, 1500], { poolSize: 2, timeoutMs: 3000 }),
      run(sandbox, hold, [postgres!.url, 1500], { poolSize: 2, timeoutMs: 3000 }),
      new Promise<Outcome>((resolve) => setTimeout(() => resolve(run(sandbox, hold, [postgres!.url, 0], { poolSize: 2, timeoutMs: 500 })), 100)),
    ]);
    assert.equal(valueOf(a), 1);
    assert.equal(valueOf(b), 1);
    assert.equal(late.ok, false);
    assert.equal((late as { kind: string }).kind, 'unavailable', 'no connection became free before its deadline');
    assert.ok(late.durationMs < 1000, `it gave up at its own deadline (${late.durationMs} ms)`);
  });
});

describe('pooled isolates', () => {
  it('serve the next execution from the same isolate and compiled script, in a fresh context where nothing the last one left survives', async () => {
    const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 1 });
    try {
      // Leaves a global, a patched built-in, a top-level binding and a changed prototype behind, and restores none of them.
      const source = `globalThis.runs = (globalThis.runs || 0) + 1;
      var topLevel = typeof topLevel === 'undefined' ? 'fresh' : 'left over';
      async function main(step) {
        const seen = { runs, topLevel, leak: typeof globalThis.leak, evil: typeof [].evil, json: JSON.stringify({ a: 1 }), lodash: typeof require('lodash').leak };
        globalThis.leak = { step };
        Array.prototype.evil = () => 'evil';
        JSON.stringify = () => 'patched';
        require('lodash').leak = true;
        return seen;
      }`;
      const fresh = { runs: 1, topLevel: 'fresh', leak: 'undefined', evil: 'undefined', json: '{"a":1}', lodash: 'undefined' };
      assert.deepEqual(valueOf(await sandbox.run({ name: 'main', source, args: [1] })), fresh);
      assert.deepEqual(valueOf(await sandbox.run({ name: 'main', source, args: [2] })), fresh, 'the second execution saw nothing of the first');
      const stats = sandbox.stats()['64MiB'];
      assert.deepEqual(
        { created: stats?.created, alive: stats?.alive, compiled: stats?.compiled, reused: stats?.reused },
        { created: 1, alive: 1, compiled: 1, reused: 1 },
        `one isolate served both, and compiled the script once: ${JSON.stringify(stats)}`,
      );

      // A script stopped at its deadline costs its isolate; the replacement compiles from V8's code cache.
      const stopped = await sandbox.run({
        name: 'main',
        source: 'async function main() { await new Promise((resolve) => setTimeout(resolve, 60000)); }',
        args: [],
        limits: { timeoutMs: 300 },
      });
      assert.equal(stopped.ok ? 'ok' : stopped.kind, 'timeout');
      assert.deepEqual(valueOf(await sandbox.run({ name: 'main', source, args: [3] })), fresh);
      const after = sandbox.stats()['64MiB'];
      assert.equal(after?.created, 2, 'the stopped isolate was replaced');
      assert.ok((after?.codeCacheHits ?? 0) >= 2, `the new isolate's runtime and script came from the code cache: ${JSON.stringify(after)}`);
    } finally {
      await sandbox.close();
    }
  });
});
