import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as mongodb from 'mongodb';
import mssql from 'mssql';
import { SCRIPT_NAMES, type ScriptName, templateRunner, templateSource } from './run.ts';

// No MongoDB or SQL Server can run where these tests run. What can be checked without one: that
// every driver method the templates and the sandbox's shims call exists in the real drivers (so
// a template that works in Ferry works against the real driver's API), and that the templates
// fail fast, as "unavailable", when the server cannot be reached.

const ISOLATE_DIR = join(import.meta.dirname, '..', '..', 'src', 'sandbox', 'isolate');

/** A shim module (src/sandbox/isolate/<file>), built outside any isolate with a host that answers nothing. */
// biome-ignore lint/suspicious/noExplicitAny: the shims are plain JavaScript, exercised loosely
type Shim = Record<string, any>;
function loadShim(file: string, factory: string): Shim {
  const build = new Function(`${readFileSync(join(ISOLATE_DIR, file), 'utf8')}\nreturn ${factory};`)() as (ferry: unknown) => Shim;
  return build({ call: () => Promise.reject(new Error('no host in this test')), withCallback: (promise: unknown) => promise, ObjectId: class {} });
}

/** The public methods (and async iterator) a shim object's class defines. */
function shimMethods(instance: object): (string | symbol)[] {
  const proto = Object.getPrototypeOf(instance);
  return [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto)].filter(
    (name) => name !== 'constructor' && !(typeof name === 'string' && name.startsWith('_')),
  );
}

function templateSources(template: string): string {
  return SCRIPT_NAMES.map((name) => templateSource(template, name)).join('\n');
}

/** A TCP port nobody listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Arguments that make each script reach for its database (well-formed ids, one identifier). */
function argsFor(name: ScriptName, id: string): unknown[] {
  switch (name) {
    case 'login':
      return [{ email: 'alice@example.com' }, 'alice-password', {}];
    case 'getUser':
      return [{ email: 'alice@example.com' }, {}];
    case 'searchUser':
      return ['alice', {}];
    case 'createUser':
      return [{ email: 'new@example.com', password: 'pw' }, {}];
    case 'updateUser':
      return [id, { nickname: 'x' }, {}];
    case 'deleteUser':
      return [id, {}];
    case 'listUsers':
      return [1, 10, {}];
    case 'validatePassword':
      return [id, 'pw', {}];
  }
}

describe('MongoDB templates and shim against the real mongodb driver', () => {
  const shim = loadShim('mongodb.js', 'mongodbModule');
  const client = new shim.MongoClient('mongodb://127.0.0.1:1/db');
  const db = client.db('db');
  const collection = db.collection('users');
  const classes: [string, object, { prototype: object }][] = [
    ['MongoClient', client, mongodb.MongoClient],
    ['Db', db, mongodb.Db],
    ['Collection', collection, mongodb.Collection],
    ['FindCursor', collection.find({}), mongodb.FindCursor],
    ['AggregationCursor', collection.aggregate([]), mongodb.AggregationCursor],
  ];

  it('every method of the shim exists on the real driver class', () => {
    let checked = 0;
    for (const [name, instance, Real] of classes) {
      for (const method of shimMethods(instance)) {
        assert.ok(method in Real.prototype, `mongodb ${name}.prototype has no ${String(method)}`);
        checked += 1;
      }
    }
    assert.ok(checked > 25, `only ${checked} methods found: did the shim's shape change?`);
    assert.equal(typeof mongodb.MongoClient.connect, 'function');
  });

  it('every driver method the templates call exists in the shim and in the real driver', () => {
    const used: [string, string[]][] = [
      ['MongoClient', ['connect', 'db', 'close']],
      ['Db', ['collection']],
      ['Collection', ['findOne', 'find', 'insertOne', 'findOneAndUpdate', 'deleteOne', 'countDocuments']],
      ['FindCursor', ['sort', 'skip', 'limit', 'toArray']],
    ];
    const sources = templateSources('mongodb');
    for (const [name, methods] of used) {
      const [, instance, Real] = classes.find(([className]) => className === name)!;
      for (const method of methods) {
        assert.ok(sources.includes(`.${method}(`), `the templates no longer call ${method}: update this list`);
        assert.equal(typeof (instance as Record<string, unknown>)[method], 'function', `the shim's ${name} has no ${method}`);
        assert.equal(typeof (Real.prototype as Record<string, unknown>)[method], 'function', `mongodb ${name}.prototype has no ${method}`);
      }
    }
    // The templates build ObjectIds from 24 hex digits and read them back with String().
    const hex = '64b7f0c2a1b2c3d4e5f60718';
    assert.equal(String(new mongodb.ObjectId(hex)), hex);
  });
});

describe('SQL Server templates and shim against the real mssql driver', () => {
  const sql = loadShim('mssql.js', 'mssqlModule');
  const pool = new sql.ConnectionPool({ server: '127.0.0.1' });

  it('every method and type of the shim exists in the real driver', () => {
    for (const [name, instance, Real] of [
      ['ConnectionPool', pool, mssql.ConnectionPool],
      ['Request', pool.request(), mssql.Request],
    ] as const) {
      const methods = shimMethods(instance);
      assert.ok(methods.length >= 4, `${name}: did the shim's shape change?`);
      for (const method of methods) assert.ok(method in Real.prototype, `mssql ${name}.prototype has no ${String(method)}`);
    }
    for (const key of Object.keys(sql)) assert.ok(key in mssql, `mssql has no ${key}`);
    const types = Object.keys(sql.TYPES).filter((key) => typeof sql.TYPES[key] === 'function');
    assert.ok(types.length > 20);
    for (const type of types) {
      assert.equal(typeof (mssql.TYPES as unknown as Record<string, unknown>)[type], 'function', `mssql.TYPES has no ${type}`);
      assert.equal(typeof (mssql as unknown as Record<string, unknown>)[type], 'function', `mssql.${type} is not a type`);
    }
  });

  it('every driver method and SQL type the templates use exists in the shim and in the real driver', () => {
    const sources = templateSources('mssql');
    const used: [string, object, { prototype: object }, string[]][] = [
      ['ConnectionPool', pool, mssql.ConnectionPool, ['connect', 'request', 'close']],
      ['Request', pool.request(), mssql.Request, ['input', 'query']],
    ];
    for (const [name, instance, Real, methods] of used) {
      for (const method of methods) {
        assert.ok(sources.includes(`.${method}(`), `the templates no longer call ${method}: update this list`);
        assert.equal(typeof (instance as Record<string, unknown>)[method], 'function', `the shim's ${name} has no ${method}`);
        assert.equal(typeof (Real.prototype as Record<string, unknown>)[method], 'function', `mssql ${name}.prototype has no ${method}`);
      }
    }
    assert.ok(sources.includes('new sql.ConnectionPool('));
    for (const type of ['NVarChar', 'Int', 'Bit']) {
      assert.ok(sources.includes(`sql.${type}`), `the templates no longer use sql.${type}: update this list`);
      assert.equal(typeof sql[type], 'function', `the shim has no sql.${type}`);
      assert.equal(typeof (mssql as unknown as Record<string, unknown>)[type], 'function', `mssql has no ${type}`);
    }
  });
});

describe('MongoDB and SQL Server templates when the server is down', () => {
  for (const template of ['mongodb', 'mssql'] as const) {
    it(`every ${template} template answers "unavailable" in well under the deadline`, async (t) => {
      const port = await closedPort();
      const scripts = templateRunner(template);
      t.after(() => scripts.close());
      const envs: Record<string, string>[] =
        template === 'mongodb'
          ? [
              { DB_CONNECTION_URI: `mongodb://127.0.0.1:${port}/legacy` },
              { DB_HOST: '127.0.0.1', DB_PORT: String(port), DB_USERNAME: 'app', DB_PASSWORD: 'secret', DB_DATABASE: 'legacy' },
            ]
          : [
              { DB_CONNECTION_URI: `mssql://sa:secret@127.0.0.1:${port}/legacy` },
              { DB_HOST: '127.0.0.1', DB_PORT: String(port), DB_USERNAME: 'sa', DB_PASSWORD: 'secret', DB_DATABASE: 'legacy' },
              { DB_CONNECTION_URI: `Server=127.0.0.1,${port};Database=legacy;User Id=sa;Password=secret;Encrypt=false` },
            ];
      const id = template === 'mongodb' ? '64b7f0c2a1b2c3d4e5f60718' : '1';
      for (const [index, name] of SCRIPT_NAMES.entries()) {
        const outcome = await scripts.run(name, argsFor(name, id), envs[index % envs.length]!);
        assert.equal(outcome.ok, false, `${name} succeeded against a closed port`);
        if (outcome.ok) continue;
        assert.equal(outcome.kind, 'unavailable', `${name}: ${outcome.kind}: ${outcome.message}`);
        assert.ok(outcome.durationMs < 3000, `${name} took ${outcome.durationMs} ms`);
        assert.ok(!outcome.message.includes('secret'), `${name} leaked the password: ${outcome.message}`);
      }
    });
  }
});
