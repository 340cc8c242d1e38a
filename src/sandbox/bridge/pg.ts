import pg from 'pg';
import type { Execution } from '../execution.ts';
import { array, optionalRecord, pick, record, string, toBuffers, toPlain } from './args.ts';
import { ScriptFacingError } from './errors.ts';
import { op, type OpTable } from './types.ts';

const CONFIG_KEYS = ['connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl', 'application_name', 'options', 'keepAlive'];
const CLIENT_KINDS = ['pg.client', 'pg.poolClient'] as const;

/** node-postgres options from a script's config, with timeouts held inside the execution's deadline. */
export function pgConfig(execution: Execution, raw: unknown): pg.ClientConfig {
  const config = pick(optionalRecord(raw, 'config'), CONFIG_KEYS) as pg.ClientConfig;
  if (config.port !== undefined) config.port = Number(config.port);
  const given = optionalRecord(raw, 'config');
  config.connectionTimeoutMillis = execution.boundedTimeout(Number(given.connectionTimeoutMillis) || execution.limits.connectTimeoutMs);
  config.query_timeout = execution.boundedTimeout(Number(given.query_timeout) || execution.limits.timeoutMs);
  // query_timeout only gives up on the client; the server would go on with a statement the
  // execution no longer waits for (an abandoned 'select pg_sleep(86400)'). statement_timeout makes
  // the server cancel it, at most timeoutMs after it started.
  config.statement_timeout = Math.min(Number(given.statement_timeout) || execution.limits.timeoutMs, execution.limits.timeoutMs);
  return config;
}

interface Query {
  text: string;
  values: unknown[];
  rowMode?: 'array';
}

function readQuery(raw: unknown): Query {
  const query = record(raw, 'query');
  const text = string(query.text, 'query text');
  const values = query.values === undefined ? [] : array(query.values, 'query values');
  return { text, values: values.map(toPgValue), ...(query.rowMode === 'array' ? { rowMode: 'array' as const } : {}) };
}

function toPgValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return toBuffers(value);
}

/** `{ rows, rowCount, fields, command }`, refusing results over the row limit. */
export function pgResult(execution: Execution, result: pg.QueryResult | pg.QueryResult[]) {
  const last = Array.isArray(result) ? result[result.length - 1]! : result;
  if (last.rows.length > execution.limits.maxRows) {
    throw new ScriptFacingError(`The query returned ${last.rows.length} rows; the limit is ${execution.limits.maxRows}. Add a LIMIT.`, 'ERR_FERRY_TOO_MANY_ROWS');
  }
  return {
    command: last.command,
    rowCount: last.rowCount,
    rows: toPlain(last.rows),
    fields: (last.fields ?? []).map((field) => ({ name: field.name, dataTypeID: field.dataTypeID, tableID: field.tableID, columnID: field.columnID })),
  };
}

type Queryable = { query(config: pg.QueryConfig): Promise<pg.QueryResult> };

async function runQuery(execution: Execution, target: Queryable, raw: unknown) {
  return pgResult(execution, await target.query(readQuery(raw) as pg.QueryConfig));
}

/** Host operations behind the isolate's `pg` module. Connections are per execution. */
export function pgOps(): OpTable {
  return {
    'pg.connect': op(async (execution, [config]) => {
      execution.checkConnectionSlot();
      const client = new pg.Client(pgConfig(execution, config));
      client.on('error', () => {}); // a dropped connection surfaces on the next query instead
      await client.connect();
      return execution.open('pg.client', client, () => client.end());
    }),
    'pg.query': op((execution, [handle, query]) => runQuery(execution, execution.get<pg.Client>(handle, CLIENT_KINDS), query)),
    'pg.end': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'pg.client') await execution.close(handle);
    }),
    'pg.pool': op((execution, [config]) => {
      execution.checkConnectionSlot();
      const given = optionalRecord(config, 'config');
      const max = Math.min(Number(given.max) || execution.limits.maxConnections, execution.limits.maxConnections);
      const pool = new pg.Pool({ ...pgConfig(execution, config), max, idleTimeoutMillis: 1000 });
      pool.on('error', () => {});
      return execution.open('pg.pool', pool, () => pool.end());
    }),
    'pg.poolQuery': op((execution, [handle, query]) => runQuery(execution, execution.get<pg.Pool>(handle, ['pg.pool']), query)),
    'pg.poolConnect': op(async (execution, [handle]) => {
      const pool = execution.get<pg.Pool>(handle, ['pg.pool']);
      const client = await pool.connect();
      return execution.open('pg.poolClient', client, () => client.release(), false);
    }),
    'pg.release': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'pg.poolClient') await execution.close(handle);
    }),
    'pg.poolEnd': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'pg.pool') await execution.close(handle);
    }),
  };
}
