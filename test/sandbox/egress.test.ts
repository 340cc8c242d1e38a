import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { storeAddress } from '../../src/sandbox/index.ts';
import { createHarness, valueOf, type Harness } from './attack-harness.ts';
import { MYSQL_ADMIN, createPostgresDatabase, needService, postgresReachable } from '../helpers/services.ts';

/** Opens each destination with its driver and answers, per destination, 'connected' or the error's code and message. */
const CONNECT_EACH = `async function main(targets) {
  const pg = require('pg'), mysql = require('mysql2/promise');
  const out = [];
  for (const [driver, config] of targets) {
    try {
      if (driver === 'pg') { const client = new pg.Client(config); await client.connect(); await client.query('select 1'); await client.end(); }
      else { const connection = await mysql.createConnection(config); await connection.query('select 1'); await connection.end(); }
      out.push('connected');
    } catch (error) { out.push(error.code + ': ' + error.message); }
  }
  return out;
}`;
const DENIED = 'ERR_FERRY_EGRESS_DENIED: destination not allowed';

/** A local TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Every connection a script opens goes through one egress check: Ferry's own database is never
 * reachable (whatever the spelling), a legacy database on the same server is, `egress.allow`
 * limits every driver, and a refusal says the same thing whether the port is open or closed.
 */
describe('egress: where scripts may connect', () => {
  let harness: Harness;
  let store: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let legacy: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  before(async () => {
    try {
      store = await createPostgresDatabase('ferry_store');
      legacy = await createPostgresDatabase('ferry_legacy');
    } catch {
      // needService below reports it
    }
    harness = await createHarness(store ? { store: storeAddress(store.url) } : {});
  });
  after(async () => {
    await harness.close();
    await store?.drop();
    await legacy?.drop();
  });
  const needPostgres = (t: TestContext) => needService(t, 'PostgreSQL', postgresReachable);
  const connectEach = async (targets: [string, unknown][], allow?: string[]) =>
    valueOf<string[]>(
      await harness.attack(CONNECT_EACH, { expect: true, args: [targets], ...(allow ? { egress: { allow } } : {}), limits: { timeoutMs: 5000 } }),
    );

  test("a script cannot open Ferry's own database, however it spells it, while a legacy database on the same server works", async (t) => {
    if (!(await needPostgres(t))) return;
    const url = new URL(store!.url);
    const user = decodeURIComponent(url.username);
    const results = await connectEach([
      ['pg', { connectionString: store!.url }],
      ['pg', { connectionString: store!.url.replace('127.0.0.1', 'localhost') }],
      ['pg', { host: 'localhost', port: 5432, user, database: store!.name }],
      ['pg', { host: '::ffff:127.0.0.1', port: '5432', user, database: store!.name }],
      ['pg', { host: '/var/run/postgresql', user, database: store!.name }],
      ['pg', { connectionString: legacy!.url }],
      ['pg', { host: 'localhost', port: 5432, user, database: legacy!.name }],
    ]);
    assert.deepEqual(results, [DENIED, DENIED, DENIED, DENIED, DENIED, 'connected', 'connected']);
  });

  test('egress.allow applies to mysql2 as to every driver, and refusals are the same whether the port is open or closed', async (t) => {
    if (!(await needPostgres(t))) return;
    const closed = await closedPort();
    const mysqlAt = (port: number) => ['mysql2', { host: MYSQL_ADMIN.host, port, user: MYSQL_ADMIN.user, password: MYSQL_ADMIN.password }] as [string, unknown];
    const pgAt = (port: number) => ['pg', { host: '127.0.0.1', port, user: 'postgres', database: legacy!.name }] as [string, unknown];
    // Only the legacy PostgreSQL server is allowed: MariaDB (open) and a closed port answer alike.
    const refused = await connectEach(
      [mysqlAt(MYSQL_ADMIN.port), mysqlAt(closed), pgAt(closed), pgAt(5432), ['pg', { host: '169.254.169.254', port: 5432 }]],
      ['127.0.0.1:5432'],
    );
    assert.deepEqual(refused, [DENIED, DENIED, DENIED, 'connected', DENIED]);
    const listed = await connectEach([mysqlAt(MYSQL_ADMIN.port)], [`${MYSQL_ADMIN.host}:${MYSQL_ADMIN.port}`]);
    assert.deepEqual(listed, ['connected'], 'a listed MariaDB answers');
  });

  test('metadata addresses stay refused even when egress.allow lists them', async () => {
    const results = await connectEach(
      [
        ['pg', { host: '169.254.169.254', port: 80 }],
        ['mysql2', { host: '169.254.169.254', port: 3306 }],
      ],
      ['169.254.0.0/16'],
    );
    assert.deepEqual(results, [DENIED, DENIED]);
  });

  test('mysql2 cannot be led past the check by a socketPath in its URI, or by fields that override the URI', async () => {
    const uri = `mysql://${MYSQL_ADMIN.user}@${MYSQL_ADMIN.host}:${MYSQL_ADMIN.port}/mysql`;
    const results = await connectEach([
      ['mysql2', { uri: `${uri}?socketPath=%2Frun%2Fmysqld%2Fmysqld.sock` }],
      ['mysql2', { uri, host: '169.254.169.254' }],
      ['mysql2', { uri }],
    ]);
    assert.deepEqual(results, [DENIED, DENIED, 'connected']);
  });

  test('a configuration written with limits.httpAllowlist is read as egress.allow', () => {
    const config = configSchema.parse({ connection: { limits: { httpAllowlist: ['api.example.com', '10.0.0.0/8'], timeoutMs: 2000 } } });
    assert.deepEqual(config.connection.egress, { allow: ['api.example.com', '10.0.0.0/8'] });
    assert.equal(config.connection.limits.timeoutMs, 2000);
    assert.equal('httpAllowlist' in config.connection.limits, false);
  });
});
