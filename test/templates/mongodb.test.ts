import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcrypt';
import { ObjectId } from 'mongodb';
import { createLogger } from '../../src/log.ts';
import { fromIsolate, toIsolate } from '../../src/sandbox/bridge/mongodb.ts';
import { op, type OpTable } from '../../src/sandbox/bridge/types.ts';
import { createSandbox } from '../../src/sandbox/index.ts';
import { templateSource, type ScriptName } from './run.ts';
import { checkTemplateBehaviour, SEED_USERS } from './scenario.ts';

// No MongoDB server can run where these tests run. Here the sandbox, its mongodb shim and the
// bridge's BSON conversion are real; only the host's three mongo.* operations are replaced by a
// small in-memory collection that implements exactly the queries the templates send (equality,
// $or, $regex, projection, sort/skip/limit, $set, unique indexes as in schema.js). It proves the
// templates' logic and their use of the driver API; mongodb-mssql.test.ts checks that API against
// the real driver.

type Doc = Record<string, unknown>;

const UNIQUE_FIELDS = [
  { field: 'email', caseInsensitive: true },
  { field: 'username', caseInsensitive: true },
  { field: 'phone', caseInsensitive: false },
];

function same(a: unknown, b: unknown): boolean {
  if (a instanceof ObjectId || b instanceof ObjectId) return a instanceof ObjectId && b instanceof ObjectId && a.equals(b);
  if (b === null) return a === null || a === undefined;
  return a === b;
}

function matches(doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$or') return (condition as Doc[]).some((part) => matches(doc, part));
    if (key.startsWith('$')) throw new Error(`the fake collection does not implement ${key}`);
    const value = doc[key];
    if (condition && typeof condition === 'object' && !(condition instanceof ObjectId) && '$regex' in condition) {
      const { $regex, $options } = condition as { $regex: string; $options?: string };
      return typeof value === 'string' && new RegExp($regex, $options).test(value);
    }
    if (condition && typeof condition === 'object' && !(condition instanceof ObjectId))
      throw new Error(`the fake collection does not implement ${JSON.stringify(condition)}`);
    return same(value, condition);
  });
}

function project(doc: Doc, projection: Doc | undefined): Doc {
  if (!projection || Object.keys(projection).length === 0) return { ...doc };
  const entries = Object.entries(projection);
  if (entries.every(([, value]) => value === 0)) return Object.fromEntries(Object.entries(doc).filter(([key]) => !(key in projection)));
  return Object.fromEntries(Object.entries(doc).filter(([key]) => key === '_id' || projection[key] === 1));
}

/** One in-memory "users" collection behind the host operations the mongodb shim calls. */
function createFakeMongo() {
  const docs: Doc[] = [];
  const connections: { uri: string; databases: (string | undefined)[]; closedByScript: boolean }[] = [];

  function checkUnique(candidate: Doc, except?: Doc) {
    for (const { field, caseInsensitive } of UNIQUE_FIELDS) {
      const value = candidate[field];
      if (typeof value !== 'string') continue;
      const key = caseInsensitive ? value.toLowerCase() : value;
      const clash = docs.find(
        (doc) => doc !== except && typeof doc[field] === 'string' && (caseInsensitive ? (doc[field] as string).toLowerCase() : doc[field]) === key,
      );
      if (clash) throw Object.assign(new Error(`E11000 duplicate key error collection: legacy.users index: ${field}_1`), { code: 11000 });
    }
  }

  const operations: Record<string, (args: unknown[]) => unknown> = {
    findOne: ([filter, options]) => {
      const doc = docs.find((item) => matches(item, filter as Doc));
      return doc ? project(doc, (options as Doc | undefined)?.projection as Doc) : null;
    },
    find: ([filter, options]) => {
      const { sort, skip = 0, limit = 0, projection } = (options ?? {}) as { sort?: Doc; skip?: number; limit?: number; projection?: Doc };
      let found = docs.filter((doc) => matches(doc, filter as Doc));
      if (sort) {
        assert.deepEqual(sort, { _id: 1 }, 'the fake collection sorts by _id only');
        found = found.sort((a, b) => String(a._id).localeCompare(String(b._id)));
      }
      found = found.slice(skip, limit > 0 ? skip + limit : undefined);
      return found.map((doc) => project(doc, projection));
    },
    countDocuments: ([filter]) => docs.filter((doc) => matches(doc, filter as Doc)).length,
    insertOne: ([doc]) => {
      const inserted = doc as Doc;
      checkUnique(inserted);
      docs.push(inserted);
      return { acknowledged: true, insertedId: inserted._id };
    },
    findOneAndUpdate: ([filter, update, options]) => {
      const doc = docs.find((item) => matches(item, filter as Doc));
      if (!doc) return null;
      const { $set, ...rest } = update as { $set: Doc };
      assert.deepEqual(rest, {}, 'the fake collection implements $set only');
      checkUnique($set, doc);
      Object.assign(doc, $set);
      assert.equal((options as Doc).returnDocument, 'after');
      return project(doc, (options as Doc).projection as Doc);
    },
    deleteOne: ([filter]) => {
      const index = docs.findIndex((doc) => matches(doc, filter as Doc));
      if (index >= 0) docs.splice(index, 1);
      return { acknowledged: true, deletedCount: index >= 0 ? 1 : 0 };
    },
  };

  const ops: OpTable = {
    'mongo.connect': op((execution, [uri]) => {
      const connection = { uri: String(uri), databases: [] as (string | undefined)[], closedByScript: false };
      connections.push(connection);
      return execution.open('mongo.client', connection, () => {});
    }),
    'mongo.op': op((execution, [handle, name, args]) => {
      const connection = execution.get<{ databases: (string | undefined)[] }>(handle, ['mongo.client']);
      const [database, collection, ...rest] = args as [string | undefined, string, ...unknown[]];
      assert.equal(collection, 'users');
      connection.databases.push(database ?? undefined);
      const operation = operations[String(name)];
      if (!operation) throw new Error(`the fake collection does not implement ${String(name)}`);
      return toIsolate(operation(rest.map((arg) => fromIsolate(arg))));
    }),
    'mongo.close': op((execution, [handle]) => {
      execution.get<{ closedByScript: boolean }>(handle, ['mongo.client']).closedByScript = true;
      return execution.close(handle);
    }),
  };
  return { docs, connections, ops };
}

/** ObjectIds of the seed users, an hour old, so that every id the scripts create sorts after them. */
function seedId(index: number): ObjectId {
  const seconds = Math.floor(Date.now() / 1000) - 3600;
  return new ObjectId(`${seconds.toString(16).padStart(8, '0')}0000000000${index.toString(16).padStart(6, '0')}`);
}

test('the MongoDB templates run in the sandbox through the real mongodb shim', async (t) => {
  const mongo = createFakeMongo();
  for (const [index, user] of SEED_USERS.entries()) {
    mongo.docs.push({
      _id: seedId(index + 1),
      email: user.email,
      phone: user.phone,
      username: user.username,
      password: await bcrypt.hash(user.password, 10),
      name: user.name,
      nickname: user.nickname,
      photo: null,
      token: null,
      email_verified: user.emailVerified,
      phone_verified: false,
      logins_count: user.loginsCount,
      last_ip: null,
      gender: null,
      address: null,
      company: user.company,
      birthdate: user.birthdate,
      website: null,
      created_at: new Date(),
      updated_at: new Date(),
    });
  }
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), ops: mongo.ops });
  t.after(() => sandbox.close());
  const uriEnv = { DB_CONNECTION_URI: 'mongodb://app:secret@legacy-db:27017/legacy' };
  const fieldsEnv = { DB_HOST: 'legacy-db', DB_PORT: '27017', DB_USERNAME: 'app', DB_PASSWORD: 's3cret/+', DB_DATABASE: 'legacy' };

  await checkTemplateBehaviour(t, {
    run: (name: ScriptName, args: unknown[], env: Record<string, string>) => sandbox.run({ name, source: templateSource('mongodb', name), args, env }),
    uriEnv,
    fieldsEnv,
    storedHash: async (id) => mongo.docs.find((doc) => String(doc._id) === String(id))?.password as string,
    missingId: '64b7f0c2a1b2c3d4e5f60718',
    updatedAtIsDate: true,
  });

  await t.test('both forms of connection variables reach the same database, and every client is closed', () => {
    const uris = new Set(mongo.connections.map((connection) => connection.uri));
    assert.deepEqual([...uris].sort(), ['mongodb://app:s3cret%2F%2B@legacy-db:27017/legacy', uriEnv.DB_CONNECTION_URI]);
    assert.ok(mongo.connections.length > 40);
    for (const connection of mongo.connections) {
      assert.ok(connection.closedByScript, 'a template left its client open');
      const expected = connection.uri === uriEnv.DB_CONNECTION_URI ? undefined : 'legacy';
      for (const database of connection.databases) assert.equal(database, expected);
    }
  });
});
