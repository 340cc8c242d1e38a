import mysql from 'mysql2/promise';
import type { Execution } from '../execution.ts';
import { array, optionalRecord, pick, record, string, toBuffers, toPlain } from './args.ts';
import { ScriptFacingError } from './errors.ts';
import { op, type OpTable } from './types.ts';

const CONFIG_KEYS = ['uri', 'host', 'port', 'user', 'password', 'database', 'charset', 'timezone', 'ssl', 'dateStrings',
  'supportBigNumbers', 'bigNumberStrings', 'decimalNumbers', 'multipleStatements', 'namedPlaceholders'];
const CONNECTION_KINDS = ['mysql.connection', 'mysql.poolConnection'] as const;

/** mysql2 options from a script's config (URI or fields), with the connect timeout inside the deadline. */
export function mysqlConfig(execution: Execution, raw: unknown): mysql.ConnectionOptions {
  const given = optionalRecord(raw, 'config');
  const config = pick(given, CONFIG_KEYS) as mysql.ConnectionOptions;
  if (config.port !== undefined) config.port = Number(config.port);
  config.connectTimeout = execution.boundedTimeout(Number(given.connectTimeout) || execution.limits.connectTimeoutMs);
  return config;
}

interface Query {
  sql: string;
  values?: unknown;
  rowsAsArray?: boolean;
  nestTables?: boolean | string;
  timeout: number;
}

function readQuery(execution: Execution, raw: unknown): Query {
  const query = record(raw, 'query');
  const values = query.values === undefined || query.values === null ? undefined : Array.isArray(query.values) ? array(query.values, 'values').map(toMysqlValue) : toMysqlValue(query.values);
  return {
    sql: string(query.sql, 'sql'),
    ...(values === undefined ? {} : { values }),
    ...(query.rowsAsArray === true ? { rowsAsArray: true } : {}),
    ...(typeof query.nestTables === 'boolean' || typeof query.nestTables === 'string' ? { nestTables: query.nestTables } : {}),
    timeout: execution.remaining(),
  };
}

function toMysqlValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return toBuffers(value);
}

/** `[rows, fields]` as mysql2 gives them, as plain data, refusing results over the row limit. */
function mysqlResult(execution: Execution, [rows, fields]: [unknown, unknown]) {
  if (Array.isArray(rows) && rows.length > execution.limits.maxRows) {
    throw new ScriptFacingError(`The query returned ${rows.length} rows; the limit is ${execution.limits.maxRows}. Add a LIMIT.`, 'ERR_FERRY_TOO_MANY_ROWS');
  }
  const describe = (field: Record<string, unknown>) => pick(field, ['name', 'columnType', 'type', 'table', 'orgTable', 'db', 'orgName', 'characterSet', 'columnLength', 'flags', 'decimals']);
  return [toPlain(rows), Array.isArray(fields) ? fields.map((field) => describe(field as Record<string, unknown>)) : undefined];
}

type Runner = { query: mysql.Connection['query']; execute: mysql.Connection['execute'] };

/** How long end() may wait for the server to finish what a script left running before the socket is cut. */
const END_GRACE_MS = 200;

/** mysql2's own connection object under its promise wrapper. */
interface CoreConnection {
  destroy(): void;
  stream?: { destroy(): void };
}

/** mysql2's destroy() only half-closes the socket (and waits for the server to close it); this closes it. */
function cut(connection: CoreConnection): void {
  connection.destroy();
  connection.stream?.destroy();
}

/**
 * Ends politely, but briefly: mysql2's end() waits for a query still in flight (a script stopped
 * in 'SELECT SLEEP(86400)' would otherwise hold the socket for a day), so after END_GRACE_MS the
 * sockets are cut. The server drops its threads when it notices.
 */
async function endBriefly(end: () => Promise<unknown>, connections: Iterable<CoreConnection>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_GRACE_MS)));
  await Promise.race([end().catch(() => {}), grace]);
  clearTimeout(timer);
  for (const connection of connections) cut(connection);
}

function runner(kind: 'query' | 'execute', kinds: readonly string[]) {
  return op(async (execution, [handle, query]) => {
    const target = execution.get<Runner>(handle, kinds);
    const options = readQuery(execution, query) as mysql.QueryOptions;
    const result = kind === 'query' ? await target.query(options) : await target.execute(options);
    return mysqlResult(execution, result as [unknown, unknown]);
  });
}

/** Host operations behind the isolate's `mysql2` and `mysql2/promise` modules. */
export function mysqlOps(): OpTable {
  return {
    'mysql.connect': op(async (execution, [config]) => {
      execution.checkConnectionSlot();
      const connection = await mysql.createConnection(mysqlConfig(execution, config));
      connection.on('error', () => {});
      const core = (connection as unknown as { connection: CoreConnection }).connection;
      return execution.open('mysql.connection', connection, () => endBriefly(() => connection.end(), [core]));
    }),
    'mysql.query': runner('query', CONNECTION_KINDS),
    'mysql.execute': runner('execute', CONNECTION_KINDS),
    'mysql.end': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mysql.connection') await execution.close(handle);
    }),
    'mysql.release': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mysql.poolConnection') await execution.close(handle);
    }),
    'mysql.pool': op((execution, [config]) => {
      execution.checkConnectionSlot();
      const given = optionalRecord(config, 'config');
      const connectionLimit = Math.min(Number(given.connectionLimit) || execution.limits.maxConnections, execution.limits.maxConnections);
      const pool = mysql.createPool({ ...mysqlConfig(execution, config), connectionLimit, waitForConnections: true, queueLimit: 0 });
      const connections = new Set<CoreConnection>();
      pool.on('connection', (connection) => {
        connection.on('error', () => {});
        connections.add(connection);
      });
      return execution.open('mysql.pool', pool, () => endBriefly(() => pool.end(), connections));
    }),
    'mysql.poolQuery': runner('query', ['mysql.pool']),
    'mysql.poolExecute': runner('execute', ['mysql.pool']),
    'mysql.poolConnection': op(async (execution, [handle]) => {
      const pool = execution.get<mysql.Pool>(handle, ['mysql.pool']);
      const connection = await pool.getConnection();
      return execution.open('mysql.poolConnection', connection, () => connection.release(), false);
    }),
    'mysql.poolEnd': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mysql.pool') await execution.close(handle);
    }),
  };
}
