import { createRequire } from 'node:module';
import type { Db, MongoClient } from 'mongodb';
import type { Execution } from '../execution.ts';
import { copyFromIsolate, setOwn, TAG } from '../values.ts';
import { array, optionalRecord, string } from './args.ts';
import type { DriverPools } from './driver-pools.ts';
import { resolveSrv } from 'node:dns/promises';
import { checkDestination, denied, type EgressPolicy } from './egress.ts';
import { ScriptFacingError } from './errors.ts';
import { resultCounter } from './result-size.ts';
import { op, type OpGroup } from './types.ts';

type Driver = typeof import('mongodb');
/** Loaded on first use: most installations never talk to MongoDB, and the driver is large. */
let driver: Driver | undefined;
const bson = (): Driver => (driver ??= createRequire(import.meta.url)('mongodb') as Driver);

const CLIENT_OPTIONS = [
  'appName',
  'authSource',
  'authMechanism',
  'replicaSet',
  'tls',
  'ssl',
  'tlsAllowInvalidCertificates',
  'directConnection',
  'readPreference',
  'retryWrites',
  'w',
  'auth',
];

/** Isolate values → BSON values: tagged ObjectIds become real ones, Uint8Arrays become Binary-compatible Buffers. */
export function fromIsolate(value: unknown): unknown {
  return copyFromIsolate(value, (hex) => (bson().ObjectId.isValid(hex) ? new (bson().ObjectId)(hex) : undefined));
}

/** BSON values → plain data for the isolate: ObjectId tagged, Long as number, Decimal128 as string. */
export function toIsolate(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  const { ObjectId, Long, Timestamp, Decimal128, Binary } = bson();
  if (value instanceof ObjectId) return { [TAG]: 'ObjectId', hex: value.toHexString() };
  if (value instanceof Date || value instanceof RegExp) return value;
  if (value instanceof Long || value instanceof Timestamp) return value.toNumber();
  if (value instanceof Decimal128) return value.toString();
  if (value instanceof Binary) return new Uint8Array(value.buffer);
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (depth > 64) return undefined;
  if (Array.isArray(value)) return value.map((item) => toIsolate(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const converted = toIsolate(item, depth + 1);
    if (converted !== undefined) setOwn(out, key, converted);
  }
  return out;
}

const FIND_OPTIONS = ['sort', 'skip', 'limit', 'projection', 'collation', 'hint'];

function findOptions(execution: Execution, raw: unknown) {
  const given = optionalRecord(raw, 'options');
  const options: Record<string, unknown> = {};
  for (const key of FIND_OPTIONS) if (given[key] !== undefined) options[key] = fromIsolate(given[key]);
  const limit = Number(options.limit) || 0;
  options.limit = limit > 0 ? Math.min(limit, execution.limits.maxRows + 1) : execution.limits.maxRows + 1;
  options.maxTimeMS = execution.pastDeadline();
  return options;
}

/** Reads a cursor document by document, counting bytes and stopping past maxRows or maxQueryResultKb. */
async function collect(execution: Execution, cursor: AsyncIterable<unknown> & { close(): Promise<void> }): Promise<unknown[]> {
  const count = resultCounter(execution);
  const rows: unknown[] = [];
  try {
    for await (const document of cursor) {
      rows.push(count(document));
      if (rows.length > execution.limits.maxRows) break;
    }
  } finally {
    await cursor.close();
  }
  return rows;
}

function checkRows(execution: Execution, rows: unknown[]): unknown[] {
  if (rows.length > execution.limits.maxRows) {
    throw new ScriptFacingError(`The query returned more than ${execution.limits.maxRows} documents; add a limit.`, 'ERR_FERRY_TOO_MANY_ROWS');
  }
  return rows;
}

/** The collection operations a script may run, each with its arguments converted from the isolate. */
const OPERATIONS: Record<string, (execution: Execution, db: Db, collection: string, args: unknown[]) => Promise<unknown>> = {
  findOne: async (ex, db, c, [filter, options]) => {
    const { limit: _limit, ...rest } = findOptions(ex, options);
    return resultCounter(ex)(await db.collection(c).findOne(fromIsolate(filter) as object, rest));
  },
  find: async (ex, db, c, [filter, options]) =>
    checkRows(ex, await collect(ex, db.collection(c).find(fromIsolate(filter) as object, findOptions(ex, options)))),
  aggregate: async (ex, db, c, [pipeline]) =>
    checkRows(
      ex,
      await collect(
        ex,
        db
          .collection(c)
          .aggregate(array(fromIsolate(pipeline), 'pipeline') as object[], { maxTimeMS: ex.pastDeadline() })
          .limit(ex.limits.maxRows + 1),
      ),
    ),
  countDocuments: (ex, db, c, [filter]) => db.collection(c).countDocuments(fromIsolate(filter) as object, { maxTimeMS: ex.pastDeadline() }),
  estimatedDocumentCount: (ex, db, c) => db.collection(c).estimatedDocumentCount({ maxTimeMS: ex.pastDeadline() }),
  distinct: (ex, db, c, [key, filter]) => db.collection(c).distinct(string(key, 'key'), fromIsolate(filter) as object, { maxTimeMS: ex.pastDeadline() }),
  insertOne: (_ex, db, c, [doc]) => db.collection(c).insertOne(fromIsolate(doc) as object),
  insertMany: (_ex, db, c, [docs]) => db.collection(c).insertMany(array(fromIsolate(docs), 'documents') as object[]),
  updateOne: (_ex, db, c, [filter, update, options]) =>
    db.collection(c).updateOne(fromIsolate(filter) as object, fromIsolate(update) as object, pickUpsert(options)),
  updateMany: (_ex, db, c, [filter, update, options]) =>
    db.collection(c).updateMany(fromIsolate(filter) as object, fromIsolate(update) as object, pickUpsert(options)),
  replaceOne: (_ex, db, c, [filter, doc, options]) =>
    db.collection(c).replaceOne(fromIsolate(filter) as object, fromIsolate(doc) as object, pickUpsert(options)),
  deleteOne: (_ex, db, c, [filter]) => db.collection(c).deleteOne(fromIsolate(filter) as object),
  deleteMany: (_ex, db, c, [filter]) => db.collection(c).deleteMany(fromIsolate(filter) as object),
  findOneAndUpdate: (_ex, db, c, [filter, update, options]) =>
    db.collection(c).findOneAndUpdate(fromIsolate(filter) as object, fromIsolate(update) as object, {
      ...pickUpsert(options),
      ...pickProjection(options),
      returnDocument: optionalRecord(options, 'options').returnDocument === 'after' ? 'after' : 'before',
    }),
  findOneAndDelete: (_ex, db, c, [filter]) => db.collection(c).findOneAndDelete(fromIsolate(filter) as object),
};

function pickProjection(raw: unknown): { projection?: object } {
  const options = optionalRecord(raw, 'options');
  return options.projection === undefined ? {} : { projection: fromIsolate(options.projection) as object };
}

function pickUpsert(raw: unknown) {
  return optionalRecord(raw, 'options').upsert === true ? { upsert: true } : {};
}

/**
 * Checks every server a MongoClient would contact: the URI's hosts, or for mongodb+srv:// the
 * targets of its SRV record (the driver follows the same record). Made before any connection.
 */
async function checkMongoHosts(policy: EgressPolicy, client: MongoClient): Promise<void> {
  const options = client.options as unknown as { hosts: { host?: string; port?: number; socketPath?: string }[]; srvHost?: string; srvServiceName?: string };
  const hosts: { host?: string; port?: number; socketPath?: string }[] = options.srvHost
    ? (await resolveSrv(`_${options.srvServiceName ?? 'mongodb'}._tcp.${options.srvHost}`)).map((record) => ({ host: record.name, port: record.port }))
    : options.hosts;
  for (const host of hosts) {
    if (host.socketPath || !host.host) throw denied();
    await checkDestination(policy, { host: host.host, port: host.port ?? 27017 });
  }
}

/**
 * Host operations behind the isolate's `mongodb` module. A MongoClient is itself a pool, so one is
 * shared by every execution with the same URI and settings: a script's connect() joins it and its
 * close() only lets go of it.
 */
export function mongodbOps(pools: DriverPools): OpGroup<'mongodb'> {
  return {
    'mongo.connect': op(async (execution, [uri, options]) => {
      execution.checkConnectionSlot();
      const { MongoClient } = bson();
      const given = optionalRecord(options, 'options');
      const settings: Record<string, unknown> = {};
      for (const key of CLIENT_OPTIONS) if (given[key] !== undefined) settings[key] = given[key];
      const timeout = Number(given.serverSelectionTimeoutMS) || execution.limits.connectTimeoutMs;
      const address = string(uri, 'uri');
      await checkMongoHosts(execution.egress, new MongoClient(address, settings));
      const shared = pools.shared(
        'mongodb',
        { address, settings, timeout, size: execution.limits.poolSize },
        async () => {
          const client = new MongoClient(address, {
            ...settings,
            serverSelectionTimeoutMS: timeout,
            connectTimeoutMS: timeout,
            maxPoolSize: execution.limits.poolSize,
          });
          await connectFailingFast(client);
          return client;
        },
        (client) => client.close(true),
      );
      const client = await shared;
      return execution.open('mongo.client', client, () => {});
    }),
    'mongo.op': op(async (execution, [handle, name, args]) => {
      const client = execution.get<MongoClient>(handle, ['mongo.client']);
      const operation = typeof name === 'string' && Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name]! : undefined;
      if (!operation) throw new ScriptFacingError(`Unsupported collection operation ${String(name)}`);
      const [database, collection, ...rest] = array(args, 'arguments');
      const db = client.db(database === undefined || database === null ? undefined : string(database, 'database name'));
      return toIsolate(await operation(execution, db, string(collection, 'collection name'), rest));
    }),
    'mongo.close': op(async (execution, [handle]) => {
      if (execution.kindOf(handle) === 'mongo.client') await execution.close(handle);
    }),
  };
}

/**
 * The driver keeps retrying server selection until its timeout even when the port refuses
 * connections; a refused or unresolvable server fails the connect at once instead.
 */
async function connectFailingFast(client: MongoClient): Promise<void> {
  let onFailure: ((event: { failure?: Error }) => void) | undefined;
  const refused = new Promise<never>((_, reject) => {
    onFailure = (event) => {
      const failure = event.failure as (Error & { code?: string; cause?: { code?: string } }) | undefined;
      const code = failure?.code ?? failure?.cause?.code;
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND')
        reject(Object.assign(new Error(failure?.message ?? 'connection refused'), { code, name: 'MongoNetworkError' }));
    };
    client.on('serverHeartbeatFailed', onFailure);
  });
  refused.catch(() => {});
  try {
    await Promise.race([client.connect(), refused]);
  } catch (error) {
    await client.close(true).catch(() => {});
    throw error;
  } finally {
    if (onFailure) client.off('serverHeartbeatFailed', onFailure);
  }
}
