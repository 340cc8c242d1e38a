import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { mysqlPoolCounts, mysqlSocket, pgSocket } from '../../src/sandbox/bridge/driver-internals.ts';
import { MYSQL_ADMIN, PG_ADMIN_URL, mysqlReachable, needService, postgresReachable } from '../helpers/services.ts';

// driver-internals.ts reads what the drivers do not offer publicly. These run it against the
// installed drivers and real servers, so that a driver release that moves any of it fails here,
// saying what moved, instead of silently breaking result metering, pool stats or session resets.

const UPDATE = 'update src/sandbox/bridge/driver-internals.ts for the installed driver';
const ROW_BYTES = 20_000;

describe('the driver internals the sandbox relies on', () => {
  it("pg: a checked-out client's socket is the one its rows arrive on", async (t) => {
    if (!(await needService(t, 'PostgreSQL', postgresReachable))) return;
    const pool = new pg.Pool({ connectionString: PG_ADMIN_URL, max: 1 });
    try {
      const client = await pool.connect();
      try {
        const socket = pgSocket(client);
        assert.ok(socket instanceof Socket, `pg's Client.connection.stream is no longer the client's socket: ${UPDATE}`);
        const before = socket.bytesRead;
        await client.query(`select repeat('x', ${ROW_BYTES})`);
        assert.ok(socket.bytesRead - before >= ROW_BYTES, `pg's rows no longer arrive on Client.connection.stream: ${UPDATE}`);
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });

  it("mysql2: a pooled connection's socket, the pool's counts, and the public session reset", async (t) => {
    if (!(await needService(t, 'MariaDB', mysqlReachable))) return;
    const pool = mysql.createPool({ ...MYSQL_ADMIN, connectionLimit: 1, resetOnRelease: false });
    try {
      assert.deepEqual(mysqlPoolCounts(pool), { total: 0, idle: 0, waiting: 0 }, `a new pool's counts: ${UPDATE}`);
      const first = await pool.getConnection();
      assert.deepEqual(mysqlPoolCounts(pool), { total: 1, idle: 0, waiting: 0 }, `one connection checked out: ${UPDATE}`);

      const socket = mysqlSocket(first);
      assert.ok(socket instanceof Socket, `mysql2's PoolConnection.connection.stream is no longer the connection's socket: ${UPDATE}`);
      const before = socket.bytesRead;
      await first.query(`select repeat('x', ${ROW_BYTES}) as x`);
      assert.ok(socket.bytesRead - before >= ROW_BYTES, `mysql2's rows no longer arrive on PoolConnection.connection.stream: ${UPDATE}`);

      const queued = pool.getConnection();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(mysqlPoolCounts(pool), { total: 1, idle: 0, waiting: 1 }, `a request waiting for the only connection: ${UPDATE}`);
      first.release();
      const second = await queued;
      assert.equal(second.threadId, first.threadId, 'the waiting request got the released connection');

      // The reset driver-pools.ts runs on a connection whose session a script changed.
      assert.equal(typeof second.reset, 'function', `mysql2's PromiseConnection.reset() is gone: ${UPDATE}`);
      await second.query('set @ferry_probe = 1');
      await second.reset();
      const [rows] = await second.query('select @ferry_probe as probe');
      assert.equal((rows as { probe: unknown }[])[0]!.probe, null, 'reset() cleared the session variable');

      second.release();
      assert.deepEqual(mysqlPoolCounts(pool), { total: 1, idle: 1, waiting: 0 }, `the connection back in the pool: ${UPDATE}`);
    } finally {
      await pool.end();
    }
  });
});
