import type pg from 'pg';
import type { Execution } from '../execution.ts';
import { array, optionalRecord, pick, record, string, toDriverValue, toPlain } from './args.ts';
import type { Checkout, DriverPools } from './driver-pools.ts';
import { checkDestination, postgresDestination } from './egress.ts';
import { ScriptFacingError } from './errors.ts';
import { op, type OpGroup } from './types.ts';

const CONFIG_KEYS = ['connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl', 'application_name', 'options', 'keepAlive'];
const CLIENT_KINDS = ['pg.client', 'pg.poolClient'] as const;

/**
 * node-postgres settings from a script's config. They name the pool the connection comes from, so
 * nothing per-execution goes in: deadlines apply per query. statement_timeout (sent when the
 * connection starts, kept by DISCARD ALL) makes the server itself cancel a statement the
 * execution no longer waits for, at most timeoutMs after it started.
 */
export function pgSettings(execution: Execution, raw: unknown): pg.PoolConfig {
  const given = optionalRecord(raw, 'config');
  const settings = pick(given, CONFIG_KEYS) as pg.PoolConfig;
  if (settings.port !== undefined) settings.port = Number(settings.port);
  settings.connectionTimeoutMillis = execution.limits.connectTimeoutMs;
  settings.statement_timeout = Math.min(Number(given.statement_timeout) || execution.limits.timeoutMs, execution.limits.timeoutMs);
  return settings;
}

interface Query {
  text: string;
  values: unknown[];
  rowMode?: 'array';
  query_timeout: number;
}

function readQuery(execution: Execution, raw: unknown): Query {
  const query = record(raw, 'query');
  const text = string(query.text, 'query text');
  const values = query.values === undefined ? [] : array(query.values, 'query values');
  return {
    text,
    values: values.map(toDriverValue),
    ...(query.rowMode === 'array' ? { rowMode: 'array' as const } : {}),
    query_timeout: execution.pastDeadline(),
  };
}

/** `{ rows, rowCount, fields, command }`, refusing results over the row limit. */
export function pgResult(execution: Execution, result: pg.QueryResult | pg.QueryResult[]) {
  const last = Array.isArray(result) ? result[result.length - 1]! : result;
  if (last.rows.length > execution.limits.maxRows) {
    throw new ScriptFacingError(
      `The query returned ${last.rows.length} rows; the limit is ${execution.limits.maxRows}. Add a LIMIT.`,
      'ERR_FERRY_TOO_MANY_ROWS',
    );
  }
  return {
    command: last.command,
    rowCount: last.rowCount,
    rows: toPlain(last.rows),
    fields: (last.fields ?? []).map((field) => ({ name: field.name, dataTypeID: field.dataTypeID, tableID: field.tableID, columnID: field.columnID })),
  };
}

async function runQuery(execution: Execution, client: Checkout<pg.PoolClient>, raw: unknown) {
  const query = readQuery(execution, raw) as pg.QueryConfig;
  return pgResult(execution, await client.use(query.text, () => client.connection.query(query)));
}

/**
 * Host operations behind the isolate's `pg` module. `new Client().connect()` takes a connection
 * from a host pool for its settings and `end()` gives it back reset; a script's own `new Pool()`
 * shares that pool too.
 */
export function pgOps(pools: DriverPools): OpGroup<'pg'> {
  const checkout = async (execution: Execution, settings: pg.PoolConfig) => {
    await checkDestination(execution.egress, postgresDestination(settings));
    return pools.pg(execution, settings, execution.limits.poolSize);
  };
  return {
    'pg.connect': op(async (execution, [config]) => {
      execution.checkConnectionSlot();
      const client = await checkout(execution, pgSettings(execution, config));
      return execution.open('pg.client', client, () => client.release());
    }),
    'pg.query': op((execution, [handle, query]) => runQuery(execution, execution.get<Checkout<pg.PoolClient>>(handle, CLIENT_KINDS), query)),
    'pg.end': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'pg.client') await execution.close(handle);
    }),
    'pg.pool': op((execution, [config]) => execution.open('pg.pool', pgSettings(execution, config), () => {}, false)),
    'pg.poolQuery': op(async (execution, [handle, query]) => {
      const client = await checkout(execution, execution.get<pg.PoolConfig>(handle, ['pg.pool']));
      try {
        return await runQuery(execution, client, query);
      } finally {
        await client.release();
      }
    }),
    'pg.poolConnect': op(async (execution, [handle]) => {
      execution.checkConnectionSlot();
      const client = await checkout(execution, execution.get<pg.PoolConfig>(handle, ['pg.pool']));
      return execution.open('pg.poolClient', client, () => client.release());
    }),
    'pg.release': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'pg.poolClient') await execution.close(handle);
    }),
    'pg.poolEnd': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'pg.pool') await execution.close(handle);
    }),
  };
}
