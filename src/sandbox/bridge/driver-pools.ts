import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type mysql from 'mysql2/promise';
import pg from 'pg';
import type { Execution } from '../execution.ts';
import { mysqlPoolCounts, mysqlSocket, pgSocket } from './driver-internals.ts';
import { isUnavailable, ScriptFacingError } from './errors.ts';

/** A pool (or shared client) per database, by driver and connection settings. */
interface Entry<T> {
  value: T;
  lastUsed: number;
  /** Connections of this pool checked out by executions now. */
  active: number;
  close(): Promise<unknown>;
  stats(): { total: number; idle: number; waiting: number };
}

/** One execution's use of a pooled connection. */
export interface Checkout<T> {
  connection: T;
  /**
   * Runs driver work for one SQL statement on the connection. A statement that may change the
   * session (anything but plain SELECT/INSERT/UPDATE/DELETE) marks it for a full reset; a network
   * failure, a fatal error or a client-side timeout marks it broken.
   */
  use<R>(sql: string, work: () => Promise<R>): Promise<R>;
  /**
   * Back to the pool with its session reset, once the work in flight on it is done, as the
   * drivers' own end() waits for queued queries. When the execution itself has ended it waits
   * END_GRACE_MS at most. A broken connection, or one still busy, is closed instead.
   */
  release(): Promise<void>;
}

/** How long a finished execution's connection may go on with a query before it is cut. */
const END_GRACE_MS = 200;

const SWEEP_EVERY_MS = 30_000;
const IDLE_POOL_MS = 60_000;
/**
 * Pools kept at once. Settings that differ from one execution to the next (a script that puts a
 * random application_name in its config, say) would otherwise open a pool, and idle connections,
 * per execution until the database refuses clients: past this many, the least recently used idle
 * pool is closed when a new one opens.
 */
const MAX_POOLS = 16;

/** Statements that leave a session as they found it (autocommit, no settings, no temporary objects). */
const PLAIN_STATEMENT = /^\s*(select|insert|update|delete|with|values)\b/i;
const SESSION_CHANGING =
  /;|\b(set_config|pg_advisory\w*|get_lock|into\s+(temp|temporary|unlogged)|lo_import|lo_export|dblink\w*|listen|notify|nextval|setval|currval|last_insert_id)\b|@@|@[a-z_]/i;

export function leavesSessionClean(sql: string): boolean {
  return PLAIN_STATEMENT.test(sql) && !SESSION_CHANGING.test(sql);
}

/**
 * After these a connection is not handed to anyone else: the server went away, the driver says the
 * error was fatal, or a client-side timeout gave up on a statement the server may still be running.
 */
function leavesConnectionUnusable(error: unknown): boolean {
  const { fatal, code, message } = (error ?? {}) as { fatal?: unknown; code?: unknown; message?: unknown };
  return isUnavailable(error) || fatal === true || /TIMEOUT/i.test(String(code ?? '')) || /timeout|timed out/i.test(String(message ?? ''));
}

/**
 * Counts the bytes arriving on a checked-out connection's socket while a statement runs (from the
 * first statement of a run of queued ones until all are done), and cuts the connection once they
 * pass `maxQueryResultKb`: the drivers buffer a whole row, or a whole result, before anyone can
 * look at it, so a 300 MB column value would otherwise be in Ferry's memory (three times over,
 * as buffer, string and copy) before any check. The listener goes first, so the driver never
 * parses the chunk that crossed the line.
 */
function meterSocket(execution: Execution, socket: Duplex | undefined, working: () => boolean) {
  const budget = execution.limits.maxQueryResultKb * 1024;
  let received = 0;
  const meter = {
    exceeded: undefined as Error | undefined,
    restart: () => (received = 0),
    stop: () => socket?.off('data', onData),
  };
  const onData = (chunk: Buffer) => {
    if (!working() || meter.exceeded) return;
    received += chunk.length;
    if (received <= budget) return;
    meter.exceeded = execution.refuse(
      'limit',
      `A query's result is larger than the limit of ${execution.limits.maxQueryResultKb} KiB (connection.limits.maxQueryResultKb).`,
    );
    socket!.destroy(meter.exceeded);
  };
  socket?.prependListener('data', onData);
  return meter;
}

/** Stable text for a settings object (keys sorted), so equal settings share a pool. */
function keyOf(driver: string, settings: Record<string, unknown>): string {
  const sorted = JSON.stringify(settings, (_key, value) =>
    value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))) : value,
  );
  return `${driver}:${createHash('sha256').update(sorted).digest('base64url')}`;
}

/**
 * Waits for a pooled connection until just before the execution's deadline (so the script still
 * sees why). One that arrives later goes straight back; an execution that waited in vain counts as
 * the legacy side being unavailable.
 */
async function untilDeadline<T>(execution: Execution, pending: Promise<T>, giveBack: (late: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        late = true;
        execution.unavailable = true;
        reject(new ScriptFacingError('No connection to the database became free before the deadline.', 'ERR_FERRY_POOL_TIMEOUT'));
      },
      Math.max(1, execution.remaining() - 50),
    );
  });
  pending.then(
    (value) => late && giveBack(value),
    () => {},
  );
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Host-side pools behind the scripts' connections. Scripts written the seeds' way open and close a
 * connection on every call; here `connect` takes a pooled connection and `end` gives it back with
 * its session reset (PostgreSQL: ROLLBACK if a transaction is open, DISCARD ALL; MySQL:
 * COM_RESET_CONNECTION), so a script pays for a connection once per process rather than once per
 * sign-in. The reset is skipped when every statement was a plain SELECT/INSERT/UPDATE/DELETE in
 * autocommit (the usual lookup), which cannot have changed the session. A connection that failed,
 * or that still has a query running, is closed instead of going back. Pools unused for a minute
 * are closed.
 */
export function createDriverPools() {
  const entries = new Map<string, Entry<unknown>>();

  const entry = <T>(key: string, create: () => Omit<Entry<T>, 'lastUsed' | 'active'>): Entry<T> => {
    let found = entries.get(key) as Entry<T> | undefined;
    if (!found) {
      if (entries.size >= MAX_POOLS) closeLeastRecentlyUsed();
      found = { ...create(), lastUsed: Date.now(), active: 0 };
      entries.set(key, found as Entry<unknown>);
    }
    found.lastUsed = Date.now();
    return found;
  };

  const closeLeastRecentlyUsed = () => {
    let oldest: [string, Entry<unknown>] | undefined;
    for (const pair of entries) if (pair[1].active === 0 && (!oldest || pair[1].lastUsed < oldest[1].lastUsed)) oldest = pair;
    if (!oldest) return;
    entries.delete(oldest[0]);
    void oldest[1].close().catch(() => {});
  };

  const sweep = setInterval(() => {
    for (const [key, item] of entries) {
      if (item.active === 0 && Date.now() - item.lastUsed > IDLE_POOL_MS) {
        entries.delete(key);
        void item.close().catch(() => {});
      }
    }
  }, SWEEP_EVERY_MS);
  sweep.unref();

  /** Tracks failures and work in flight on one checked-out connection. */
  const checkout = <T>(
    execution: Execution,
    item: Entry<unknown>,
    connection: T,
    hooks: { reset(dirty: boolean): Promise<unknown>; give(): void; destroy(): void; detach(): void; socket: Duplex | undefined },
  ): Checkout<T> => {
    let broken = false;
    let dirty = false;
    let busy = 0;
    let released = false;
    let settled: (() => void) | undefined;
    item.active += 1;
    const meter = meterSocket(execution, hooks.socket, () => busy > 0);
    /** Resolves when no work is in flight, or after `ms`. */
    const quiet = (ms: number) =>
      busy === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            settled = () => {
              clearTimeout(timer);
              resolve();
            };
          });
    return {
      connection,
      async use(sql, work) {
        if (!dirty && !leavesSessionClean(sql)) dirty = true;
        if (busy === 0) meter.restart();
        busy += 1;
        try {
          return await work();
        } catch (error) {
          if (meter.exceeded) {
            broken = true;
            throw meter.exceeded;
          }
          if (leavesConnectionUnusable(error)) broken = true;
          throw error;
        } finally {
          busy -= 1;
          if (busy === 0) settled?.();
        }
      },
      async release() {
        if (released) return;
        released = true;
        await quiet(execution.ended ? END_GRACE_MS : execution.remaining());
        meter.stop();
        item.active -= 1;
        item.lastUsed = Date.now();
        if (broken || busy > 0 || meter.exceeded) return hooks.destroy();
        try {
          await hooks.reset(dirty);
        } catch {
          return hooks.destroy();
        }
        hooks.give();
        // Only now: the pool has put its own idle listener back, so an error never goes unheard.
        hooks.detach();
      },
    };
  };

  return {
    /** A pooled node-postgres client for these settings (at most `size` per database). */
    async pg(execution: Execution, settings: pg.PoolConfig, size: number): Promise<Checkout<pg.PoolClient>> {
      const item = entry<pg.Pool>(keyOf('pg', { ...settings, size }), () => {
        const pool = new pg.Pool({ ...settings, max: size, idleTimeoutMillis: 30_000 });
        pool.on('error', () => {}); // an idle client's server went away: the pool drops it
        return { value: pool, close: () => pool.end(), stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }) };
      });
      const client = await untilDeadline(execution, item.value.connect(), (late) => late.release());
      let failed = false;
      const onError = () => (failed = true);
      client.on('error', onError);
      const handle = checkout(execution, item, client, {
        // Two statements: DISCARD ALL refuses to run in a transaction block, which a multi-statement query is.
        reset: async (dirty) => {
          if (failed) throw new Error('connection failed');
          if (client.getTransactionStatus() !== 'I') await client.query('ROLLBACK');
          if (dirty) await client.query('DISCARD ALL');
        },
        give: () => client.release(),
        destroy: () => client.release(true),
        detach: () => client.off('error', onError),
        socket: pgSocket(client),
      });
      return handle;
    },

    /** A pooled mysql2 connection for these settings; the pool resets its session on release. */
    async mysql(
      execution: Execution,
      settings: mysql.PoolOptions,
      size: number,
      create: (options: mysql.PoolOptions) => mysql.Pool,
    ): Promise<Checkout<mysql.PoolConnection>> {
      const item = entry<mysql.Pool>(keyOf('mysql', { ...settings, size }), () => {
        const pool = create({
          ...settings,
          connectionLimit: size,
          maxIdle: size,
          idleTimeout: 30_000,
          waitForConnections: true,
          queueLimit: 0,
          resetOnRelease: false,
        });
        pool.on('connection', (connection) => connection.on('error', () => {}));
        return { value: pool, close: () => pool.end(), stats: () => mysqlPoolCounts(pool) };
      });
      const connection = await untilDeadline(execution, item.value.getConnection(), (late) => late.release());
      const socket = mysqlSocket(connection);
      return checkout(execution, item, connection, {
        // COM_RESET_CONNECTION: rolls back, drops temporary tables, clears variables and locks.
        reset: async (dirty) => {
          if (dirty) await connection.reset();
        },
        give: () => connection.release(),
        destroy: () => {
          connection.destroy();
          socket?.destroy();
        },
        detach: () => {},
        socket,
      });
    },

    /** A client shared by every execution for these settings (MongoDB's client is itself a pool). */
    shared<T>(driver: string, settings: Record<string, unknown>, create: () => Promise<T>, close: (value: T) => Promise<unknown>): Promise<T> {
      const key = keyOf(driver, settings);
      const item = entry<Promise<T>>(key, () => {
        const value = create();
        return { value, close: () => value.then(close), stats: () => ({ total: 1, idle: 0, waiting: 0 }) };
      });
      // A client that failed to connect is forgotten, so the next execution tries again.
      item.value.catch(() => entries.get(key) === item && entries.delete(key));
      return item.value;
    },

    /** Per driver: connections open, idle in the pools, checked out by executions now, and executions waiting for one. */
    stats(): Record<string, { total: number; idle: number; active: number; waiting: number }> {
      const out: Record<string, { total: number; idle: number; active: number; waiting: number }> = {};
      for (const [key, item] of entries) {
        const driver = key.slice(0, key.indexOf(':'));
        const sum = (out[driver] ??= { total: 0, idle: 0, active: 0, waiting: 0 });
        const stats = item.stats();
        sum.total += stats.total;
        sum.idle += stats.idle;
        sum.active += item.active;
        sum.waiting += stats.waiting;
      }
      return out;
    },

    async close(): Promise<void> {
      clearInterval(sweep);
      const all = [...entries.values()];
      entries.clear();
      await Promise.allSettled(all.map((item) => item.close()));
    },
  };
}

export type DriverPools = ReturnType<typeof createDriverPools>;
