import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createHarness, valueOf, type Harness } from './attack-harness.ts';
import { CHAINS, FRAMES, SCAN } from './isolate-probes.ts';
import { MYSQL_ADMIN, PG_ADMIN_URL, createPostgresDatabase, needService, uniqueName } from '../helpers/services.ts';

const SECRET = 'S3cret-Pw-4711';

/**
 * Attacks through the bridged database drivers, against real PostgreSQL and MariaDB: what their
 * results, errors and callbacks expose, what their errors reveal, and whether connections a
 * script leaves open are closed.
 */
describe('attacks through the database drivers', () => {
  let harness: Harness;
  let postgres: { name: string; url: string; drop(): Promise<void> } | undefined;
  let postgresProblem: Error | undefined;
  let mysqlDatabase: string | undefined;
  let mysqlUser: string | undefined;
  let mysqlProblem: Error | undefined;

  before(async () => {
    harness = await createHarness();
    try {
      postgres = await createPostgresDatabase('ferry_attack');
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      await client.query('create table users (id serial primary key, email text unique, profile jsonb)');
      await client.query(`insert into users (email, profile) values ('a@example.com', '{"name": "A"}')`);
      await client.end();
    } catch (error) {
      postgresProblem = error as Error;
    }
    try {
      const admin = await mysql.createConnection(MYSQL_ADMIN);
      mysqlDatabase = uniqueName('ferry_attack');
      mysqlUser = uniqueName('fa').slice(0, 30);
      await admin.query(`create database ${mysqlDatabase}`);
      await admin.query(`create table ${mysqlDatabase}.users (id int auto_increment primary key, email varchar(100) unique, name varchar(100))`);
      await admin.query(`insert into ${mysqlDatabase}.users (email, name) values ('a@example.com', 'A')`);
      await admin.query(`create user '${mysqlUser}'@'%' identified by '${SECRET}'`);
      await admin.end();
    } catch (error) {
      mysqlProblem = error as Error;
    }
  });

  after(async () => {
    await harness.close();
    await postgres?.drop().catch(() => {});
    if (mysqlDatabase) {
      const admin = await mysql.createConnection(MYSQL_ADMIN).catch(() => undefined);
      await admin?.query(`drop database if exists ${mysqlDatabase}`).catch(() => {});
      await admin?.query(`drop user if exists '${mysqlUser}'@'%'`).catch(() => {});
      await admin?.end();
    }
  });

  const needPostgres = (t: TestContext) =>
    needService(t, 'PostgreSQL', async () => {
      if (postgresProblem || !postgres) throw postgresProblem ?? new Error('no database');
    });
  const needMysql = (t: TestContext) =>
    needService(t, 'MariaDB', async () => {
      if (mysqlProblem || !mysqlDatabase) throw mysqlProblem ?? new Error('no database');
    });
  const mysqlUrl = () => `mysql://${MYSQL_ADMIN.user}:${MYSQL_ADMIN.password}@${MYSQL_ADMIN.host}:${MYSQL_ADMIN.port}/${mysqlDatabase}`;

  /** Roots a script can reach through both drivers: clients, results, rows, fields, errors, callbacks. */
  const COLLECT_DRIVER_ROOTS = `
    const pg = require('pg'), mysql = require('mysql2'), mysqlPromise = require('mysql2/promise');
    const roots = [];
    const client = new pg.Client({ connectionString: pgUrl, application_name: 'ferry-attack' });
    await client.connect();
    const result = await client.query('select id, email, profile, now() as at from users');
    roots.push([client, 'pg client'], [result, 'pg result'], [result.rows, 'pg rows'], [result.rows[0], 'pg row'], [result.rows[0].profile, 'pg json'], [result.rows[0].at, 'pg date'], [result.fields, 'pg fields']);
    await new Promise((resolve) => client.query('select 1 as one', (error, res) => { roots.push([error, 'pg callback error'], [res, 'pg callback result']); resolve(); }));
    try { await client.query('select from nowhere'); } catch (error) { roots.push([error, 'pg query error']); }
    const pool = new pg.Pool({ connectionString: pgUrl });
    roots.push([pool, 'pg pool'], [await pool.query('select 1'), 'pg pool result']);
    const pooled = await pool.connect();
    roots.push([pooled, 'pg pool client'], [await pooled.query('select 2'), 'pg pool client result']);
    pooled.release();
    await pool.end();
    await client.end();
    const connection = mysql.createConnection(mysqlUrl);
    await new Promise((resolve) => connection.query('select * from users', (error, rows, fields) => { roots.push([error, 'mysql callback error'], [rows, 'mysql rows'], [rows && rows[0], 'mysql row'], [fields, 'mysql fields'], [fields && fields[0], 'mysql field']); resolve(); }));
    await new Promise((resolve) => connection.query('select from nowhere', (error) => { roots.push([error, 'mysql query error']); resolve(); }));
    await new Promise((resolve) => connection.end(resolve));
    const promised = await mysqlPromise.createConnection(mysqlUrl);
    const [rows, fields] = await promised.execute('select * from users where id = ?', [1]);
    roots.push([promised, 'mysql promise connection'], [rows, 'mysql execute rows'], [fields, 'mysql execute fields']);
    const mysqlPool = mysqlPromise.createPool(mysqlUrl);
    roots.push([mysqlPool, 'mysql pool'], [await mysqlPool.query('select 1'), 'mysql pool result'], [await mysqlPool.getConnection(), 'mysql pool connection']);
    await mysqlPool.end();
    await promised.end();`;

  test('driver clients, results, rows, fields, errors and callbacks lead to no host function, isolated-vm object or foreign Function', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const outcome = await harness.attack(
      `${SCAN}${CHAINS}
      async function main(pgUrl, mysqlUrl) {
        ${COLLECT_DRIVER_ROOTS}
        const chains = roots.filter(([value]) => value != null).flatMap(([value, label]) => __chains(label, value));
        return { roots: roots.length, findings: __scan(roots), chains: chains.length, foreign: chains.filter((item) => !item.sameRealm || !['undefined,refused,own', 'async', 'generator'].includes(item.sees)) };
      }`,
      { expect: true, args: [postgres!.url, mysqlUrl()], limits: { timeoutMs: 5000, cpuTimeMs: 2000 } },
    );
    const report = valueOf<{ roots: number; findings: string[]; chains: number; foreign: unknown[] }>(outcome);
    assert.ok(report.roots >= 25 && report.chains > 40, JSON.stringify(report));
    assert.deepEqual(report.findings, []);
    assert.deepEqual(report.foreign, []);
  });

  test('call sites in driver callbacks and around a query in flight expose no runtime frame', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const outcome = await harness.attack(
      `${FRAMES}
      async function main(pgUrl, mysqlUrl) {
        const pg = require('pg'), mysql = require('mysql2');
        const stacks = [];
        const client = new pg.Client(pgUrl);
        await new Promise((resolve) => client.connect(() => { stacks.push(__capture()); resolve(); }));
        await new Promise((resolve) => client.query('select 1', () => { stacks.push(__capture()); resolve(); }));
        const pool = new pg.Pool({ connectionString: pgUrl });
        await new Promise((resolve) => pool.connect((error, pooled, done) => { stacks.push(__capture()); done(); resolve(); }));
        let during;
        setTimeout(() => { during = __capture(); }, 5);
        await client.query('select pg_sleep(0.1)');
        stacks.push(during);
        try { await client.query('select from nowhere'); } catch (error) { stacks.push(error.stack); }
        const connection = mysql.createConnection(mysqlUrl);
        await new Promise((resolve) => connection.query('select 1', () => { stacks.push(__capture()); resolve(); }));
        await new Promise((resolve) => connection.query('select from nowhere', (error) => { stacks.push(error.stack); resolve(); }));
        await new Promise((resolve) => connection.end(() => { stacks.push(__capture()); resolve(); }));
        await client.end(); await pool.end();
        return { stacks: stacks.length, recorded: stacks.every((stack) => stack === 'recorded'), frames: __frames };
      }`,
      { expect: true, args: [postgres!.url, mysqlUrl()], limits: { timeoutMs: 5000 } },
    );
    const { stacks, recorded, frames } = valueOf<{ stacks: number; recorded: boolean; frames: { file: string; hasThis: boolean; hasFunction: boolean }[] }>(
      outcome,
    );
    assert.equal(stacks, 8);
    assert.ok(recorded);
    assert.ok(frames.some((frame) => frame.file === 'ferry:runtime.js'));
    assert.deepEqual(
      frames.filter((frame) => frame.file !== 'file:///scripts/main.js' && (frame.hasThis || frame.hasFunction)),
      [],
    );
  });

  test("driver callbacks run once each, and calling pool.connect's done twice is the script's own error", async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const outcome = await harness.attack(
      `async function main(pgUrl, mysqlUrl) {
        const pg = require('pg'), mysql = require('mysql2');
        const calls = {};
        const count = (name) => () => { calls[name] = (calls[name] || 0) + 1; };
        const connection = mysql.createConnection(mysqlUrl);
        connection.connect(count('mysql connect'));
        connection.query('select 1', count('mysql query'));
        connection.query('select from nowhere', count('mysql failing query'));
        connection.execute('select ?', [1], count('mysql execute'));
        connection.ping(count('mysql ping'));
        connection.end(count('mysql end'));
        const client = new pg.Client(pgUrl);
        client.connect(count('pg connect'));
        client.query('select 1', count('pg query'));
        client.query('select from nowhere', count('pg failing query'));
        client.end(count('pg end'));
        require('bcrypt').compare('x', '$2b$04$abcdefghijklmnopqrstuu', count('bcrypt compare'));
        await new Promise((resolve) => setTimeout(resolve, 300));
        return calls;
      }`,
      { expect: true, args: [postgres!.url, mysqlUrl()] },
    );
    const calls = valueOf<Record<string, number>>(outcome);
    assert.deepEqual(Object.values(calls), new Array(11).fill(1), JSON.stringify(calls));
    const twice = await harness.attack(
      `async function main(pgUrl) {
        const pool = new (require('pg').Pool)({ connectionString: pgUrl });
        pool.connect((error, client, done) => { done(); done(); });
        await new Promise((resolve) => setTimeout(resolve, 300));
        return 'finished';
      }`,
      { expect: 'script_error', args: [postgres!.url] },
    );
    assert.ok(!twice.ok && /already been released/.test(twice.message), twice.ok ? '' : twice.message);
  });

  test('driver errors reach the script as plain errors: message and code, no host stack, no driver object', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const outcome = await harness.attack(
      `async function main(pgUrl, mysqlUrl) {
        const pg = require('pg'), mysql = require('mysql2/promise');
        const seen = [];
        const record = (label, error) => seen.push({ label, name: error.name, message: error.message, code: error.code, keys: Object.getOwnPropertyNames(error).sort(), stack: error.stack, proto: Object.getPrototypeOf(error) === Error.prototype || Object.getPrototypeOf(error) === TypeError.prototype });
        const client = new pg.Client(pgUrl);
        await client.connect();
        for (const sql of ['select from nowhere', "insert into users (email) values ('a@example.com')", 'select 1/0']) { try { await client.query(sql); } catch (error) { record('pg: ' + sql, error); } }
        await client.end();
        try { await new pg.Client({ host: '127.0.0.1', port: 1 }).connect(); } catch (error) { record('pg: refused', error); }
        const connection = await mysql.createConnection(mysqlUrl);
        for (const sql of ['select from nowhere', "insert into users (email) values ('a@example.com')"]) { try { await connection.query(sql); } catch (error) { record('mysql: ' + sql, error); } }
        await connection.end();
        try { await mysql.createConnection({ host: '127.0.0.1', port: 1 }); } catch (error) { record('mysql: refused', error); }
        return seen;
      }`,
      { expect: true, args: [postgres!.url, mysqlUrl()], limits: { timeoutMs: 5000 } },
    );
    const seen = valueOf<{ label: string; code: unknown; keys: string[]; stack: string; proto: boolean }[]>(outcome);
    assert.equal(seen.length, 7);
    for (const error of seen) {
      assert.ok(error.proto, `${error.label}: a plain Error`);
      for (const key of error.keys) assert.ok(['stack', 'message', 'code', 'errno', 'sqlState', 'number'].includes(key), `${error.label}: own property ${key}`);
      assert.notEqual(error.code, undefined, `${error.label} carries its code`);
      assert.doesNotMatch(error.stack, /node_modules|\/work\/|node:internal|\.ts:/, `${error.label}: ${error.stack}`);
      for (const line of error.stack.split('\n').slice(1)) assert.match(line, /ferry:runtime\.js|file:\/\/\/scripts\/main\.js/, `${error.label}: ${line}`);
    }
    assert.deepEqual(
      seen.map((error) => error.code),
      ['42P01', '23505', '22012', 'ECONNREFUSED', 'ER_PARSE_ERROR', 'ER_DUP_ENTRY', 'ECONNREFUSED'],
    );
  });

  test('credentials never show in driver errors, console lines or the outcome', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const env = {
      DB_CONNECTION_URI: `postgres://postgres:${SECRET}@127.0.0.1:1/nowhere`,
      DB_HOST: MYSQL_ADMIN.host,
      DB_PORT: String(MYSQL_ADMIN.port),
      DB_USERNAME: mysqlUser!,
      DB_PASSWORD: `${SECRET}-wrong`,
      OTHER_URL: `postgres://postgres:${SECRET}@127.0.0.1:5432/no_such_database_${Date.now()}`,
    };
    const outcome = await harness.attack(
      `async function main() {
        const pg = require('pg'), mysql = require('mysql2/promise');
        const messages = [];
        const attempt = async (label, run) => { try { await run(); messages.push(label + ': connected'); } catch (error) { console.log(label, error); console.error(error.message, error.stack); messages.push(label + ': ' + error.message); } };
        await attempt('pg closed port', () => new pg.Client(env.DB_CONNECTION_URI).connect());
        await attempt('pg unknown database', () => new pg.Client({ connectionString: env.OTHER_URL }).connect());
        await attempt('pg password as host', () => new pg.Client({ host: env.DB_PASSWORD + '.invalid', connectionTimeoutMillis: 500 }).connect());
        await attempt('mysql wrong password', () => mysql.createConnection({ host: env.DB_HOST, port: Number(env.DB_PORT), user: env.DB_USERNAME, password: env.DB_PASSWORD }));
        await attempt('mysql password in uri', () => mysql.createConnection('mysql://' + env.DB_USERNAME + ':' + env.DB_PASSWORD + '@127.0.0.1:1/x'));
        throw new Error(messages.join(' | '));
      }`,
      { expect: 'unavailable', env, limits: { timeoutMs: 5000 } },
    );
    const text = JSON.stringify(outcome);
    assert.ok(!text.includes(SECRET), `a credential leaked: ${text}`);
    assert.match(text, /ECONNREFUSED|does not exist|Access denied/);
  });

  describe('connections a script leaves open', () => {
    /** Sockets this process still has open to PostgreSQL or MariaDB (the test's own admin connections are closed by then). */
    function _hostSockets(): number {
      const ports = new Set([5432, MYSQL_ADMIN.port]);
      return (process as unknown as { _getActiveHandles(): { remotePort?: number; destroyed?: boolean }[] })
        ._getActiveHandles()
        .filter((handle) => handle.remotePort !== undefined && ports.has(handle.remotePort) && !handle.destroyed).length;
    }

    /**
     * Sessions of PostgreSQL database `name` and of MariaDB database `mysqlDatabase` that match the
     * extra conditions, polled until both counts reach 0 or `waitMs` pass.
     */
    async function pollSessions(name: string, waitMs: number, where: { postgres: string; mysql: string }): Promise<{ postgres: number; mysql: number }> {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const my = await mysql.createConnection(MYSQL_ADMIN);
      try {
        const deadline = Date.now() + waitMs;
        for (;;) {
          const postgresCount = Number(
            (await admin.query(`select count(*) as n from pg_stat_activity where datname = $1${where.postgres} and pid <> pg_backend_pid()`, [name])).rows[0].n,
          );
          const [rows] = await my.query(`select count(*) as n from information_schema.processlist where db = ?${where.mysql}`, [mysqlDatabase]);
          const mysqlCount = Number((rows as { n: number }[])[0]!.n);
          if ((postgresCount === 0 && mysqlCount === 0) || Date.now() > deadline) return { postgres: postgresCount, mysql: mysqlCount };
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await admin.end();
        await my.end();
      }
    }

    /** Connections to PostgreSQL database `name` and to MariaDB database `mysqlDatabase`, counted until both reach 0 or `waitMs` pass. */
    const connectionsLeft = (name: string, waitMs = 2000) => pollSessions(name, waitMs, { postgres: '', mysql: '' });

    const OPEN_EVERYTHING = `
      const pg = require('pg'), mysql = require('mysql2'), mysqlPromise = require('mysql2/promise');
      const client = new pg.Client(pgUrl); await client.connect(); await client.query('select 1');
      const pool = new pg.Pool({ connectionString: pgUrl }); await pool.query('select 1');
      const kept = await pool.connect(); await kept.query('select 1');
      const connection = await mysqlPromise.createConnection(mysqlUrl); await connection.query('select 1');
      const callbackConnection = mysql.createConnection(mysqlUrl); await new Promise((resolve) => callbackConnection.query('select 1', resolve));
      const mysqlPool = mysqlPromise.createPool(mysqlUrl); const pooled = await mysqlPool.getConnection(); await pooled.query('select 1');`;

    /** Connections the sandbox's pools hold checked out for executions (none once every execution has ended). */
    function checkedOut(): number {
      return Object.values(harness.sandbox.connectionStats()).reduce((sum, driver) => sum + driver.active, 0);
    }

    /** Statements still running for database `name` (PostgreSQL) and `mysqlDatabase` (MariaDB), polled until none or `waitMs` pass. */
    const statementsRunning = (name: string, waitMs: number) =>
      pollSessions(name, waitMs, { postgres: " and state = 'active'", mysql: " and command <> 'Sleep'" });

    test('connections, pools and pool clients never closed by a finished script go back to the pools, and closing the sandbox closes them', async (t) => {
      if (!(await needPostgres(t)) || !(await needMysql(t))) return;
      await harness.attack(`async function main(pgUrl, mysqlUrl) { ${OPEN_EVERYTHING} return 'left everything open'; }`, {
        expect: true,
        args: [postgres!.url, mysqlUrl()],
        limits: { timeoutMs: 5000, maxConnections: 8 },
      });
      assert.equal(checkedOut(), 0, 'nothing stays checked out for a finished script');
      const left = await connectionsLeft(postgres!.name, 0);
      assert.ok(left.postgres <= 10 && left.mysql <= 10, `the pools keep at most poolSize connections per database: ${JSON.stringify(left)}`);
      const own = await createHarness();
      await own.run(`async function main(pgUrl, mysqlUrl) { ${OPEN_EVERYTHING} return 'left everything open'; }`, {
        args: [postgres!.url, mysqlUrl()],
        limits: { timeoutMs: 5000, maxConnections: 8 },
      });
      await own.close();
      await harness.close();
      harness = await createHarness();
      assert.deepEqual(await connectionsLeft(postgres!.name), { postgres: 0, mysql: 0 }, 'closing the sandbox closes every pooled connection');
    });

    test('connections of a script stopped by the CPU limit, or by the deadline in the middle of a query, are cut and their statements stop', async (t) => {
      if (!(await needPostgres(t)) || !(await needMysql(t))) return;
      await harness.attack(`async function main(pgUrl, mysqlUrl) { ${OPEN_EVERYTHING} for (;;) {} }`, {
        expect: 'timeout',
        args: [postgres!.url, mysqlUrl()],
        limits: { timeoutMs: 3000, maxConnections: 8 },
      });
      assert.equal(checkedOut(), 0);
      await harness.attack(
        `async function main(pgUrl, mysqlUrl) { ${OPEN_EVERYTHING} await Promise.all([client.query('select pg_sleep(30)'), kept.query('select pg_sleep(30)'), connection.query('select sleep(30)'), pooled.query('select sleep(30)')]); }`,
        { expect: 'timeout', args: [postgres!.url, mysqlUrl()], limits: { timeoutMs: 1500, maxConnections: 8 } },
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(checkedOut(), 0, 'busy connections are cut, not kept for the script');
      // PostgreSQL cancels the statements (statement_timeout); MariaDB notices the closed socket
      // during SLEEP() within about five seconds.
      assert.deepEqual(await statementsRunning(postgres!.name, 7000), { postgres: 0, mysql: 0 });
    });
  });

  test('loops over cheap queries stop at the deadline, and a busy loop after a query stops at the CPU limit', async (t) => {
    if (!(await needPostgres(t))) return;
    await harness.attack(
      `async function main(pgUrl) { const client = new (require('pg').Client)(pgUrl); await client.connect(); while (true) await client.query('select 1'); }`,
      { expect: 'timeout', args: [postgres!.url] },
    );
    await harness.attack(
      `async function main(pgUrl) { const client = new (require('pg').Client)(pgUrl); await client.connect(); await client.query('select 1'); while (true) {} }`,
      { expect: 'timeout', args: [postgres!.url] },
    );
  });

  test('a Proxy, accessors or a deep structure as query values are contained', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const outcome = await harness.attack(
      `async function main(pgUrl, mysqlUrl) {
        const pg = require('pg'), mysql = require('mysql2/promise');
        const hostile = new Proxy({}, { get: () => 'x', ownKeys: () => ['a'], getOwnPropertyDescriptor: () => ({ value: 'x', enumerable: true, configurable: true }) });
        let deep = ['leaf']; for (let i = 0; i < 10000; i += 1) deep = [deep];
        const client = new pg.Client(pgUrl); await client.connect();
        const results = [];
        for (const value of [hostile, { get email() { return 'a@example.com'; } }, deep, [hostile]]) {
          try { results.push((await client.query('select $1::text as v', [value])).rows[0].v.slice(0, 40)); } catch (error) { results.push('refused: ' + error.message.slice(0, 60)); }
        }
        try { await client.query(hostile); results.push('query object accepted'); } catch (error) { results.push('refused: ' + error.message.slice(0, 60)); }
        await client.end();
        const connection = await mysql.createConnection(mysqlUrl);
        for (const value of [hostile, deep]) {
          try { results.push(JSON.stringify((await connection.query('select ? as v', [value]))[0][0]).slice(0, 40)); } catch (error) { results.push('refused: ' + error.message.slice(0, 60)); }
        }
        await connection.end();
        return results;
      }`,
      { expect: true, args: [postgres!.url, mysqlUrl()], limits: { timeoutMs: 5000 } },
    );
    assert.equal(valueOf<string[]>(outcome).length, 7);
  });

  test('a __proto__ key in a JSON parameter travels through the driver and back as data', async (t) => {
    if (!(await needPostgres(t))) return;
    const outcome = await harness.attack(
      `async function main(pgUrl) {
        const client = new (require('pg').Client)(pgUrl); await client.connect();
        const value = JSON.parse('{"name":"n","__proto__":{"isAdmin":true}}');
        const row = (await client.query('select $1::jsonb as v', [value])).rows[0];
        await client.end();
        return { own: Object.getOwnPropertyNames(row.v).sort(), inherited: row.v.isAdmin === true, polluted: typeof ({}).isAdmin };
      }`,
      { expect: true, args: [postgres!.url] },
    );
    assert.deepEqual(valueOf(outcome), { own: ['__proto__', 'name'], inherited: false, polluted: 'undefined' });
  });

  test('maxConnections refuses one connection too many on either driver; pool queries do not count and an ended connection frees its slot', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const outcome = await harness.attack(
      `async function main(pgUrl, mysqlUrl) {
        const pg = require('pg'), mysql = require('mysql2/promise'), mysqlCallbacks = require('mysql2');
        const out = {};
        const attempt = async (name, run) => { try { await run(); out[name] = 'opened'; } catch (error) { out[name] = error.code; out.message = error.message; } };
        const first = new pg.Client(pgUrl); await first.connect();
        const second = await mysql.createConnection(mysqlUrl);
        await attempt('pg client', () => new pg.Client(pgUrl).connect());
        await attempt('mysql connection', () => mysql.createConnection(mysqlUrl));
        await attempt('mysql callback connection', () => new Promise((resolve, reject) => mysqlCallbacks.createConnection(mysqlUrl).query('select 1', (error) => (error ? reject(error) : resolve()))));
        const pgPool = new pg.Pool({ connectionString: pgUrl }), mysqlPool = mysql.createPool(mysqlUrl);
        await attempt('pg pool.query', () => pgPool.query('select 1'));
        await attempt('mysql pool.query', () => mysqlPool.query('select 1'));
        await attempt('pg pool.connect', () => pgPool.connect());
        await attempt('mysql pool.getConnection', () => mysqlPool.getConnection());
        await first.end();
        await attempt('pg client after one ended', async () => { const client = new pg.Client(pgUrl); await client.connect(); await client.query('select 1'); });
        await second.end();
        await attempt('mysql pool.getConnection after one ended', async () => { const connection = await mysqlPool.getConnection(); await connection.query('select 1'); });
        return out;
      }`,
      { expect: true, args: [postgres!.url, mysqlUrl()], limits: { timeoutMs: 5000, maxConnections: 2 } },
    );
    assert.deepEqual(valueOf(outcome), {
      'pg client': 'ERR_FERRY_CONNECTION_LIMIT',
      'mysql connection': 'ERR_FERRY_CONNECTION_LIMIT',
      'mysql callback connection': 'ERR_FERRY_CONNECTION_LIMIT',
      'pg pool.query': 'opened',
      'mysql pool.query': 'opened',
      'pg pool.connect': 'ERR_FERRY_CONNECTION_LIMIT',
      'mysql pool.getConnection': 'ERR_FERRY_CONNECTION_LIMIT',
      'pg client after one ended': 'opened',
      'mysql pool.getConnection after one ended': 'opened',
      message: 'Too many open connections (the limit is 2); end or release one first.',
    });
  });

  test('maxRows refuses a result one row over the limit, through every query path of both drivers', async (t) => {
    if (!(await needPostgres(t)) || !(await needMysql(t))) return;
    const outcome = await harness.attack(
      `async function main(pgUrl, mysqlUrl) {
        const pg = require('pg'), mysql = require('mysql2/promise');
        const out = {};
        const attempt = async (name, run) => { try { out[name] = await run(); } catch (error) { out[name] = error.code; out.message = error.message; } };
        const series = 'select generate_series(1, $1::int) as n';
        const client = new pg.Client(pgUrl); await client.connect();
        const pool = new pg.Pool({ connectionString: pgUrl });
        for (const n of [5, 6]) {
          await attempt('pg client ' + n, async () => (await client.query(series, [n])).rows.length);
          await attempt('pg config object ' + n, async () => (await client.query({ text: series, values: [n], rowMode: 'array' })).rows.length);
          await attempt('pg pool ' + n, async () => (await pool.query(series, [n])).rows.length);
        }
        await client.end(); await pool.end();
        const recursive = 'with recursive s (n) as (select 1 union all select n + 1 from s where n < ?) select n from s';
        const connection = await mysql.createConnection(mysqlUrl);
        const mysqlPool = mysql.createPool(mysqlUrl);
        for (const n of [5, 6]) {
          await attempt('mysql query ' + n, async () => (await connection.query(recursive, [n]))[0].length);
          await attempt('mysql execute ' + n, async () => (await connection.execute(recursive, [n]))[0].length);
          await attempt('mysql pool ' + n, async () => (await mysqlPool.query(recursive, [n]))[0].length);
        }
        await connection.end(); await mysqlPool.end();
        return out;
      }`,
      { expect: true, args: [postgres!.url, mysqlUrl()], limits: { timeoutMs: 5000, maxRows: 5 } },
    );
    const refused = 'ERR_FERRY_TOO_MANY_ROWS';
    assert.deepEqual(valueOf(outcome), {
      'pg client 5': 5,
      'pg config object 5': 5,
      'pg pool 5': 5,
      'pg client 6': refused,
      'pg config object 6': refused,
      'pg pool 6': refused,
      'mysql query 5': 5,
      'mysql execute 5': 5,
      'mysql pool 5': 5,
      'mysql query 6': refused,
      'mysql execute 6': refused,
      'mysql pool 6': refused,
      message: 'The query returned 6 rows; the limit is 5. Add a LIMIT.',
    });
  });
});
