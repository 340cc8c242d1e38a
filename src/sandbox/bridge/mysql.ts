import type mysql from 'mysql2/promise';
import type { Execution } from '../execution.ts';
import { array, optionalRecord, pick, record, string, toDriverValue, toPlain } from './args.ts';
import type { Checkout, DriverPools } from './driver-pools.ts';
import { checkDestination, denied, type Destination } from './egress.ts';
import { ScriptFacingError } from './errors.ts';
import { op, type OpGroup } from './types.ts';

const CONFIG_KEYS = [
  'uri',
  'host',
  'port',
  'user',
  'password',
  'database',
  'charset',
  'timezone',
  'ssl',
  'dateStrings',
  'supportBigNumbers',
  'bigNumberStrings',
  'decimalNumbers',
  'multipleStatements',
  'namedPlaceholders',
];
const CONNECTION_KINDS = ['mysql.connection', 'mysql.poolConnection'] as const;

/** mysql2 settings from a script's config (URI or fields); they name the pool the connection comes from. */
export function mysqlSettings(execution: Execution, raw: unknown): mysql.PoolOptions {
  const settings = pick(optionalRecord(raw, 'config'), CONFIG_KEYS) as mysql.PoolOptions;
  if (settings.port !== undefined) settings.port = Number(settings.port);
  settings.connectTimeout = execution.limits.connectTimeoutMs;
  return settings;
}

/**
 * Where mysql2 connects for these settings, read as mysql2 reads them: fields it was given win over
 * the URI's, then localhost:3306. A `socketPath` in the URI's query (which mysql2 would follow to a
 * Unix socket) is refused.
 */
function mysqlDestination(settings: mysql.PoolOptions): Destination {
  let fromUri: { host?: string; port?: number } = {};
  if (typeof settings.uri === 'string') {
    let url: URL;
    try {
      url = new URL(settings.uri);
    } catch {
      throw new ScriptFacingError('Invalid connection URI', 'ERR_INVALID_URL');
    }
    if (url.searchParams.has('socketPath')) throw denied();
    fromUri = { host: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')), port: Number(url.port) || undefined };
  }
  const host = (typeof settings.host === 'string' && settings.host) || fromUri.host || 'localhost';
  return { host, port: Number(settings.port) || fromUri.port || 3306 };
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
  const values =
    query.values === undefined || query.values === null
      ? undefined
      : Array.isArray(query.values)
        ? array(query.values, 'values').map(toDriverValue)
        : toDriverValue(query.values);
  return {
    sql: string(query.sql, 'sql'),
    ...(values === undefined ? {} : { values }),
    ...(query.rowsAsArray === true ? { rowsAsArray: true } : {}),
    ...(typeof query.nestTables === 'boolean' || typeof query.nestTables === 'string' ? { nestTables: query.nestTables } : {}),
    timeout: execution.pastDeadline(),
  };
}

/** `[rows, fields]` as mysql2 gives them, as plain data, refusing results over the row limit. */
function mysqlResult(execution: Execution, [rows, fields]: [unknown, unknown]) {
  if (Array.isArray(rows) && rows.length > execution.limits.maxRows) {
    throw new ScriptFacingError(`The query returned ${rows.length} rows; the limit is ${execution.limits.maxRows}. Add a LIMIT.`, 'ERR_FERRY_TOO_MANY_ROWS');
  }
  const describe = (field: Record<string, unknown>) =>
    pick(field, ['name', 'columnType', 'type', 'table', 'orgTable', 'db', 'orgName', 'characterSet', 'columnLength', 'flags', 'decimals']);
  return [toPlain(rows), Array.isArray(fields) ? fields.map((field) => describe(field as Record<string, unknown>)) : undefined];
}

/**
 * Host operations behind the isolate's `mysql2` and `mysql2/promise` modules. createConnection()
 * takes a connection from a host pool for its settings and end() gives it back (the pool resets
 * its session); a script's own createPool() shares that pool too. A connection still running a
 * query when the script lets go of it is closed at once rather than waited for (a script stopped
 * in 'SELECT SLEEP(86400)' must not hold it for a day).
 */
export function mysqlOps(pools: DriverPools): OpGroup<'mysql'> {
  let driver: typeof import('mysql2/promise') | undefined;
  const checkout = async (execution: Execution, settings: mysql.PoolOptions) => {
    // Loaded on first use: most installations never talk to MySQL.
    await checkDestination(execution.egress, mysqlDestination(settings));
    driver ??= (await import('mysql2/promise')).default as unknown as typeof import('mysql2/promise');
    return pools.mysql(execution, settings, execution.limits.poolSize, (options) => driver!.createPool(options));
  };
  const run = (kind: 'query' | 'execute') => async (execution: Execution, connection: Checkout<mysql.PoolConnection>, query: unknown) => {
    const options = readQuery(execution, query) as mysql.QueryOptions;
    const result = await connection.use(options.sql, () => (kind === 'query' ? connection.connection.query(options) : connection.connection.execute(options)));
    return mysqlResult(execution, result as [unknown, unknown]);
  };
  const onConnection = (kind: 'query' | 'execute') =>
    op((execution, [handle, query]) => run(kind)(execution, execution.get<Checkout<mysql.PoolConnection>>(handle, CONNECTION_KINDS), query));
  const onPool = (kind: 'query' | 'execute') =>
    op(async (execution, [handle, query]) => {
      const connection = await checkout(execution, execution.get<mysql.PoolOptions>(handle, ['mysql.pool']));
      try {
        return await run(kind)(execution, connection, query);
      } finally {
        await connection.release();
      }
    });

  return {
    'mysql.connect': op(async (execution, [config]) => {
      execution.checkConnectionSlot();
      const connection = await checkout(execution, mysqlSettings(execution, config));
      return execution.open('mysql.connection', connection, () => connection.release());
    }),
    'mysql.query': onConnection('query'),
    'mysql.execute': onConnection('execute'),
    'mysql.end': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mysql.connection') await execution.close(handle);
    }),
    'mysql.release': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mysql.poolConnection') await execution.close(handle);
    }),
    'mysql.pool': op((execution, [config]) => execution.open('mysql.pool', mysqlSettings(execution, config), () => {}, false)),
    'mysql.poolQuery': onPool('query'),
    'mysql.poolExecute': onPool('execute'),
    'mysql.poolConnection': op(async (execution, [handle]) => {
      execution.checkConnectionSlot();
      const connection = await checkout(execution, execution.get<mysql.PoolOptions>(handle, ['mysql.pool']));
      return execution.open('mysql.poolConnection', connection, () => connection.release());
    }),
    'mysql.poolEnd': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mysql.pool') await execution.close(handle);
    }),
  };
}
