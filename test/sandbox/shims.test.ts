import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it, type TestContext } from 'node:test';
import mysql from 'mysql2/promise';
import { createLogger } from '../../src/log.ts';
import { createSandbox } from '../../src/sandbox/index.ts';
import { MYSQL_ADMIN, createMysqlDatabase, createPostgresDatabase, needService, postgresReachable } from '../helpers/services.ts';

describe('the axios shim behaves as axios does', () => {
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 2 });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString() || undefined;
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          method: request.method,
          path: request.url,
          authorization: request.headers.authorization,
          app: request.headers['x-app'],
          post: request.headers['x-post'],
          type: body && request.headers['content-type'],
          body,
        }),
      );
    });
  });
  let base = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await sandbox.close();
    server.close();
  });

  it('applies axios.defaults changed after require, with common and per-method headers, and instances made by create()', async () => {
    const outcome = await sandbox.run({
      name: 'main',
      args: [base],
      source: `async function main(base) {
        const axios = require('axios');
        axios.defaults.baseURL = base;
        axios.defaults.headers.common['Authorization'] = 'Bearer t1';
        axios.defaults.headers.post['X-Post'] = 'only for POST';
        const plain = (await axios.get('/a')).data;
        const posted = (await axios.post('/b', { q: 1 }, { headers: { 'X-App': 'call' } })).data;
        const instance = axios.create({ headers: { 'X-App': 'instance' } });
        instance.interceptors.request.use((config) => ({ ...config, url: config.url + '?intercepted=1' }));
        const fromInstance = (await instance.get('/c')).data;
        return { plain, posted, fromInstance };
      }`,
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.value, {
      plain: { method: 'GET', path: '/a', authorization: 'Bearer t1' },
      posted: { method: 'POST', path: '/b', authorization: 'Bearer t1', app: 'call', post: 'only for POST', type: 'application/json', body: '{"q":1}' },
      fromInstance: { method: 'GET', path: '/c?intercepted=1', authorization: 'Bearer t1', app: 'instance' },
    });
  });

  it('put sends a JSON or text body with its config, from the module and from an instance', async () => {
    const outcome = await sandbox.run({
      name: 'main',
      args: [base],
      source: `async function main(base) {
        const axios = require('axios');
        const direct = await axios.put(base + '/users/1', { name: 'Ada' }, { headers: { 'X-App': 'put' } });
        const instance = axios.create({ baseURL: base });
        const viaInstance = await instance.put('/users/2', 'plain text', { headers: { 'Content-Type': 'text/plain' } });
        return { status: direct.status, direct: direct.data, viaInstance: viaInstance.data };
      }`,
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.value, {
      status: 200,
      direct: { method: 'PUT', path: '/users/1', app: 'put', type: 'application/json', body: '{"name":"Ada"}' },
      viaInstance: { method: 'PUT', path: '/users/2', type: 'text/plain', body: 'plain text' },
    });
  });
});

describe('the pg and mysql2 shims against real PostgreSQL and MariaDB', () => {
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 2 });
  let postgres: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let mariadb: Awaited<ReturnType<typeof createMysqlDatabase>> | undefined;

  after(async () => {
    await sandbox.close();
    await postgres?.drop();
    await mariadb?.drop();
  });

  async function databases(t: TestContext): Promise<{ pgUrl: string; mysqlUrl: string } | undefined> {
    if (!(await needService(t, 'PostgreSQL', postgresReachable))) return undefined;
    if (!(await needService(t, 'MariaDB', async () => (await mysql.createConnection(MYSQL_ADMIN)).end()))) return undefined;
    postgres ??= await createPostgresDatabase('ferry_shims');
    mariadb ??= await createMysqlDatabase('ferry_shims');
    return { pgUrl: postgres.url, mysqlUrl: mariadb.url };
  }

  it('pg: query({ text, values }) on a client, with a callback, with rowMode, and on a pool', async (t) => {
    const urls = await databases(t);
    if (!urls) return;
    const outcome = await sandbox.run({
      name: 'main',
      args: [urls.pgUrl],
      source: `async function main(url) {
        const pg = require('pg');
        const client = new pg.Client(url);
        await client.connect();
        const configured = await client.query({ text: 'select $1::int + $2::int as sum, $3::text as word', values: [2, 3, 'w'] });
        const viaCallback = await new Promise((resolve, reject) => client.query({ text: 'select $1::text as v', values: ['cb'] }, (error, result) => (error ? reject(error) : resolve(result.rows[0].v))));
        const arrays = await client.query({ text: 'select $1::int as a, $2::int as b', values: [1, 2], rowMode: 'array' });
        await client.end();
        const pool = new pg.Pool({ connectionString: url });
        const pooled = await pool.query({ text: 'select $1::text as v', values: ['pool'] });
        await pool.end();
        return { row: configured.rows[0], fields: configured.fields.map((field) => field.name), rowCount: configured.rowCount, viaCallback, arrays: arrays.rows, pooled: pooled.rows[0].v };
      }`,
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.value, { row: { sum: 5, word: 'w' }, fields: ['sum', 'word'], rowCount: 1, viaCallback: 'cb', arrays: [[1, 2]], pooled: 'pool' });
  });

  it("mysql2: .promise() on a callback connection and on a callback pool gives the promise API, sharing the callback side's connection", async (t) => {
    const urls = await databases(t);
    if (!urls) return;
    const outcome = await sandbox.run({
      name: 'main',
      args: [urls.mysqlUrl],
      source: `async function main(url) {
        const mysql = require('mysql2');
        const connection = mysql.createConnection(url);
        const promised = connection.promise();
        const [rows, fields] = await promised.query('select ? + ? as sum', [2, 3]);
        const [executed] = await promised.execute('select ? as word', ['w']);
        await promised.query('set @shared = 7');
        const seenByCallback = await new Promise((resolve, reject) => connection.query('select @shared as v', (error, result) => (error ? reject(error) : resolve(result[0].v))));
        await promised.end();
        const pool = mysql.createPool(url);
        const poolPromised = pool.promise();
        const [pooled] = await poolPromised.query('select ? as v', ['pool']);
        const held = await poolPromised.getConnection();
        const [fromHeld] = await held.execute('select ? as v', ['held']);
        held.release();
        await poolPromised.end();
        return { sum: rows[0].sum, field: fields[0].name, word: executed[0].word, seenByCallback, pooled: pooled[0].v, fromHeld: fromHeld[0].v };
      }`,
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.value, { sum: 5, field: 'sum', word: 'w', seenByCallback: 7, pooled: 'pool', fromHeld: 'held' });
  });

  it('Date, Buffer, Uint8Array, BigInt, null and nested values keep their types as arguments, query parameters, rows and results', async (t) => {
    const urls = await databases(t);
    if (!urls) return;
    const at = new Date('2024-02-29T12:34:56.789Z');
    const values = {
      at,
      bytes: Buffer.from([0, 1, 254, 255]),
      view: new Uint8Array([7, 8, 9]),
      big: 9007199254740993n,
      nothing: null,
      nested: { list: [1, 'two', { deep: [at, null, [true]] }], empty: {} },
    };
    const outcome = await sandbox.run({
      name: 'main',
      args: [urls.pgUrl, urls.mysqlUrl, values],
      source: `async function main(pgUrl, mysqlUrl, values) {
        const kind = (value) => value === null ? 'null' : value instanceof Date ? 'Date' : Buffer.isBuffer(value) ? 'Buffer' : value instanceof Uint8Array ? 'Uint8Array' : Array.isArray(value) ? 'Array' : typeof value;
        const kinds = (row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, kind(value)]));
        const { at, bytes, view, big, nothing, nested } = values;
        const received = { ...kinds(values), deepDate: kind(nested.list[2].deep[0]), deepArray: kind(nested.list[2].deep[2]), same: at.getTime() + ' ' + bytes.toString('hex') + ' ' + Buffer.from(view).toString('hex') + ' ' + (big + 1n) };

        const client = new (require('pg').Client)(pgUrl);
        await client.connect();
        const pgRow = (await client.query('select $1::timestamptz as at, $2::bytea as bytes, $3::bytea as view, $4::bigint as big, $5::text as nothing, $6::jsonb as nested, $7::int[] as list', [at, bytes, view, big, nothing, nested, [1, 2]])).rows[0];
        await client.end();

        const connection = await require('mysql2/promise').createConnection({ uri: mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
        await connection.query('create temporary table boundary (at datetime(3), bytes blob, view varbinary(16), big bigint, nothing text, nested json)');
        await connection.execute('insert into boundary values (?, ?, ?, ?, ?, ?)', [at, bytes, view, big, nothing, JSON.stringify(nested)]);
        const [[mysqlRow]] = await connection.execute('select * from boundary where big = ? and bytes = ?', [big, bytes]);
        const [[listed]] = await connection.query('select count(*) as n from boundary where big in (?)', [['1', big]]);
        await connection.end();

        return {
          received,
          pg: { kinds: kinds(pgRow), row: pgRow },
          mysql: { kinds: kinds(mysqlRow), row: mysqlRow, listed: listed.n },
          made: { date: new Date(0), buffer: Buffer.from('hi'), view: new Uint8Array([1, 2]), big: 2n ** 70n, nothing: null, nested: { list: [{ deep: [new Date(1), Buffer.from([3])] }] } },
        };
      }`,
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    const result = outcome.value as Record<string, Record<string, unknown>>;

    // Inside the script: the arguments arrive with their types (a Uint8Array as a Buffer, as every byte array does).
    assert.deepEqual(result.received, {
      at: 'Date',
      bytes: 'Buffer',
      view: 'Buffer',
      big: 'bigint',
      nothing: 'null',
      nested: 'object',
      deepDate: 'Date',
      deepArray: 'Array',
      same: `${at.getTime()} 0001feff 070809 9007199254740994`,
    });
    // Through node-postgres: timestamptz a Date, bytea a Buffer, bigint its decimal string, jsonb parsed (a Date in it as ISO text).
    const pgSide = result.pg as { kinds: unknown; row: Record<string, unknown> };
    assert.deepEqual(pgSide.kinds, { at: 'Date', bytes: 'Buffer', view: 'Buffer', big: 'string', nothing: 'null', nested: 'object', list: 'Array' });
    assert.deepEqual(pgSide.row, {
      at,
      bytes: Buffer.from([0, 1, 254, 255]),
      view: Buffer.from([7, 8, 9]),
      big: '9007199254740993',
      nothing: null,
      nested: { list: [1, 'two', { deep: [at.toISOString(), null, [true]] }], empty: {} },
      list: [1, 2],
    });
    // Through mysql2: datetime a Date, BLOB and VARBINARY Buffers, BIGINT a string (bigNumberStrings), JSON parsed.
    const mysqlSide = result.mysql as { kinds: unknown; row: Record<string, unknown>; listed: unknown };
    assert.deepEqual(mysqlSide.kinds, { at: 'Date', bytes: 'Buffer', view: 'Buffer', big: 'string', nothing: 'null', nested: 'object' });
    assert.deepEqual(mysqlSide.row, {
      at,
      bytes: Buffer.from([0, 1, 254, 255]),
      view: Buffer.from([7, 8, 9]),
      big: '9007199254740993',
      nothing: null,
      nested: { list: [1, 'two', { deep: [at.toISOString(), null, [true]] }], empty: {} },
    });
    assert.equal(Number(mysqlSide.listed), 1, 'an array parameter expands to a list');
    // Out of the script: Date, Buffer (from any byte array), BigInt, null and nesting survive.
    assert.deepEqual(result.made, {
      date: new Date(0),
      buffer: Buffer.from('hi'),
      view: Buffer.from([1, 2]),
      big: 2n ** 70n,
      nothing: null,
      nested: { list: [{ deep: [new Date(1), Buffer.from([3])] }] },
    });
    const made = result.made as { date: unknown; buffer: unknown; view: unknown; big: unknown; nested: { list: { deep: unknown[] }[] } };
    assert.ok(made.date instanceof Date && Buffer.isBuffer(made.buffer) && Buffer.isBuffer(made.view) && typeof made.big === 'bigint');
    assert.ok(made.nested.list[0]!.deep[0] instanceof Date && Buffer.isBuffer(made.nested.list[0]!.deep[1]));
    assert.ok(pgSide.row.at instanceof Date && Buffer.isBuffer(pgSide.row.bytes) && mysqlSide.row.at instanceof Date && Buffer.isBuffer(mysqlSide.row.bytes));
  });
});
