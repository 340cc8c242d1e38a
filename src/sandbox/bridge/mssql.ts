import { createRequire } from 'node:module';
import type mssql from 'mssql';
import type { Execution } from '../execution.ts';
import { array, optionalRecord, pick, record, string, toDriverValue, toPlain } from './args.ts';
import { ScriptFacingError } from './errors.ts';
import { checkDestination } from './egress.ts';
import { resultCounter } from './result-size.ts';
import { op, type OpGroup } from './types.ts';

type Driver = typeof import('mssql');
/**
 * Loaded on first use: most installations never talk to SQL Server, and the driver (with tedious)
 * adds about 34 MB to each sandbox process's resident memory (docs/memory.md).
 */
let loaded: Driver | undefined;
const driver = (): Driver => (loaded ??= createRequire(import.meta.url)('mssql') as Driver);

const CONFIG_KEYS = ['server', 'port', 'user', 'password', 'database', 'domain', 'options', 'authentication'];
const TYPE_NAMES = new Set([
  'VarChar',
  'NVarChar',
  'Text',
  'NText',
  'Char',
  'NChar',
  'Int',
  'BigInt',
  'SmallInt',
  'TinyInt',
  'Bit',
  'Float',
  'Real',
  'Decimal',
  'Numeric',
  'Money',
  'SmallMoney',
  'DateTime',
  'DateTime2',
  'SmallDateTime',
  'Date',
  'Time',
  'DateTimeOffset',
  'UniqueIdentifier',
  'VarBinary',
  'Binary',
  'Image',
  'Xml',
  'Variant',
]);

/** mssql options from a script's config object or connection string, with timeouts inside the deadline. */
export function mssqlConfig(execution: Execution, raw: unknown): mssql.config | string {
  const given = optionalRecord(raw, 'config');
  const connectionTimeout = execution.boundedTimeout(Number(given.connectionTimeout) || execution.limits.connectTimeoutMs);
  const requestTimeout = execution.boundedTimeout(Number(given.requestTimeout) || execution.limits.timeoutMs);
  const pool = { max: execution.limits.maxConnections, min: 0, idleTimeoutMillis: 1000 };
  if (typeof given.connectionString === 'string') {
    return { ...driver().ConnectionPool.parseConnectionString(given.connectionString), connectionTimeout, requestTimeout, pool } as mssql.config;
  }
  const config = pick(given, CONFIG_KEYS) as unknown as mssql.config;
  if (typeof config.server !== 'string') throw new ScriptFacingError('config.server must be a string', 'ERR_INVALID_ARG_TYPE');
  if (config.port !== undefined) config.port = Number(config.port);
  return { ...config, connectionTimeout, requestTimeout, pool };
}

/** `{ name, args }` from the isolate → an mssql type, e.g. NVarChar(50). */
function sqlType(raw: unknown): mssql.ISqlType | mssql.ISqlTypeFactory | undefined {
  if (raw === undefined || raw === null) return undefined;
  const type = record(raw, 'type');
  const name = string(type.name, 'type name');
  if (!TYPE_NAMES.has(name)) throw new ScriptFacingError(`Unknown SQL type ${name}`, 'EARGS');
  const factory = (driver() as unknown as Record<string, (...args: unknown[]) => mssql.ISqlType>)[name]!;
  const args = type.args === undefined ? [] : array(type.args, 'type arguments');
  return args.length > 0 ? factory(...args) : (factory as unknown as mssql.ISqlTypeFactory);
}

function prepare(pool: mssql.ConnectionPool, inputs: unknown, outputs: unknown): mssql.Request {
  const request = pool.request();
  for (const raw of array(inputs ?? [], 'inputs')) {
    const input = record(raw, 'input');
    const type = sqlType(input.type);
    const value = toDriverValue(input.value);
    if (type) request.input(string(input.name, 'input name'), type as mssql.ISqlType, value);
    else request.input(string(input.name, 'input name'), value);
  }
  for (const raw of array(outputs ?? [], 'outputs')) {
    const output = record(raw, 'output');
    request.output(string(output.name, 'output name'), (sqlType(output.type) ?? driver().NVarChar) as mssql.ISqlType, output.value);
  }
  return request;
}

function result(execution: Execution, raw: { recordsets?: unknown; rowsAffected: number[]; output: unknown; returnValue?: unknown }) {
  const recordsets = Array.isArray(raw.recordsets) ? (raw.recordsets as unknown[][]) : [];
  for (const set of recordsets) {
    if (set.length > execution.limits.maxRows) {
      throw new ScriptFacingError(`The query returned ${set.length} rows; the limit is ${execution.limits.maxRows}. Add a TOP.`, 'ERR_FERRY_TOO_MANY_ROWS');
    }
  }
  const count = resultCounter(execution);
  for (const set of recordsets) for (const row of set) count(row);
  const plainSets = recordsets.map((set) => toPlain([...set]) as unknown[]);
  return { recordset: plainSets[0], recordsets: plainSets, rowsAffected: [...raw.rowsAffected], output: toPlain(raw.output), returnValue: raw.returnValue };
}

/** Host operations behind the isolate's `mssql` module. */
export function mssqlOps(): OpGroup<'mssql'> {
  return {
    'mssql.connect': op(async (execution, [config]) => {
      execution.checkConnectionSlot();
      const settings = mssqlConfig(execution, config) as mssql.config;
      // "host\\instance" names an instance whose port SQL Server Browser gives on the same host.
      await checkDestination(execution.egress, { host: String(settings.server ?? '').split('\\')[0] || 'localhost', port: Number(settings.port) || 1433 });
      const pool = new (driver().ConnectionPool)(settings);
      pool.on('error', () => {});
      await pool.connect();
      return execution.open('mssql.pool', pool, () => pool.close());
    }),
    'mssql.query': op(async (execution, [handle, text, inputs, outputs]) => {
      const pool = execution.get<mssql.ConnectionPool>(handle, ['mssql.pool']);
      return result(execution, await prepare(pool, inputs, outputs).query(string(text, 'query')));
    }),
    'mssql.execute': op(async (execution, [handle, procedure, inputs, outputs]) => {
      const pool = execution.get<mssql.ConnectionPool>(handle, ['mssql.pool']);
      return result(execution, await prepare(pool, inputs, outputs).execute(string(procedure, 'procedure')));
    }),
    'mssql.close': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mssql.pool') await execution.close(handle);
    }),
  };
}
