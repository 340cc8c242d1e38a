import type { Duplex } from 'node:stream';
import type mysql from 'mysql2/promise';
import type pg from 'pg';

// Every use of a driver's undocumented internals, in one place: what driver-pools.ts needs and
// the drivers do not offer publicly. test/sandbox/driver-internals.test.ts runs each against
// real pools, so a driver release that changes one fails there, by name, and not in production.
// What has a public API uses it instead: mysql2's session reset is PromiseConnection.reset().

/** Thrown when the installed driver no longer has the shape this file reads. */
function changed(what: string): Error {
  return new Error(`The installed driver changed: ${what}. Update src/sandbox/bridge/driver-internals.ts.`);
}

function isDuplex(value: unknown): value is Duplex {
  return (
    typeof value === 'object' && value !== null && typeof (value as Duplex).prependListener === 'function' && typeof (value as Duplex).destroy === 'function'
  );
}

/**
 * The socket under a checked-out node-postgres client, metered while a statement runs: pg's
 * `Client.connection.stream` (typed by @types/pg, not documented by pg). A client not connected
 * yet has none.
 */
export function pgSocket(client: pg.PoolClient): Duplex | undefined {
  const connection = (client as unknown as { connection?: { stream?: unknown } }).connection;
  if (connection === undefined || connection.stream === undefined) return undefined;
  if (!isDuplex(connection.stream)) throw changed("pg's Client.connection.stream is not a stream");
  return connection.stream;
}

/** The socket under a mysql2 pooled connection: its core connection's `stream` (typed, not documented). */
export function mysqlSocket(connection: mysql.PoolConnection): Duplex | undefined {
  const stream = (connection.connection as unknown as { stream?: unknown } | undefined)?.stream;
  if (stream === undefined) return undefined;
  if (!isDuplex(stream)) throw changed("mysql2's PoolConnection.connection.stream is not a stream");
  return stream;
}

/**
 * Connections a mysql2 pool holds, those idle in it, and requests queued for one. mysql2 has no
 * public counts (its pool events say when a connection is made or acquired, never when one is
 * closed), so these are the lengths of its core pool's private queues.
 */
export function mysqlPoolCounts(pool: mysql.Pool): { total: number; idle: number; waiting: number } {
  const core = (pool as unknown as { pool?: Record<string, { length?: unknown } | undefined> }).pool;
  const length = (name: string) => {
    const value = core?.[name]?.length;
    if (typeof value !== 'number') throw changed(`mysql2's pool.pool.${name}.length is not a number`);
    return value;
  };
  return { total: length('_allConnections'), idle: length('_freeConnections'), waiting: length('_connectionQueue') };
}
