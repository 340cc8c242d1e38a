import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createHarness, listen, valueOf, type Harness } from './attack-harness.ts';
import { SCAN } from './isolate-probes.ts';

/**
 * A script patches built-ins the runtime might use, so that its hooks see the runtime's internal
 * values, then drives every shim. Whatever the hooks saw is scanned: none of it may be an
 * isolated-vm object or a host function.
 */
const RECORDER = `
const captured = [];
const $apply = Reflect.apply, $construct = Reflect.construct, $push = Array.prototype.push, $define = Object.defineProperty;
let recording = false;
const restorers = [];
/** Puts every patched built-in back, so that the scan runs on pristine intrinsics. */
const restore = () => { for (let i = restorers.length - 1; i >= 0; i -= 1) restorers[i](); };
const remember = (object, name) => {
  const descriptor = Reflect.getOwnPropertyDescriptor(object, name);
  $apply($push, restorers, [() => (descriptor ? $define(object, name, descriptor) : Reflect.deleteProperty(object, name))]);
};
/** Records an object or function the hooks saw; never re-enters itself through a patched built-in. */
const keep = (value, where) => {
  if (recording || ((typeof value !== 'object' && typeof value !== 'function') || value === null)) return;
  recording = true;
  try { $apply($push, captured, [[value, where]]); } finally { recording = false; }
};
/** Replaces object[name] with a wrapper that records its receiver, arguments and result. */
const spy = (object, name, where) => {
  const original = object[name];
  if (typeof original !== 'function') return;
  remember(object, name);
  const wrapper = function (...args) {
    keep(this, where);
    for (let i = 0; i < args.length; i += 1) keep(args[i], where);
    const result = new.target ? $construct(original, args, new.target) : $apply(original, this, args);
    keep(result, where);
    return result;
  };
  $define(object, name, { __proto__: null, value: wrapper, writable: true, configurable: true });
};
/** An accessor on a prototype that records whoever reads or writes the name, and keeps plain semantics. */
const trap = (proto, name, where) => {
  remember(proto, name);
  $define(proto, name, {
    __proto__: null,
    get() { keep(this, where); return undefined; },
    set(value) { keep(this, where); keep(value, where); $define(this, name, { __proto__: null, value, writable: true, enumerable: true, configurable: true }); },
    configurable: true,
  });
};
`;

/** Drives every shim, including their failures; returns how many steps succeeded. */
const EXERCISE = `
async function exercise(port) {
  const results = [];
  const step = async (name, run) => { try { await run(); results.push(name); } catch (error) { keep(error, name + ' error'); results.push(name + ' failed: ' + (error && error.message)); } };
  const bcrypt = require('bcrypt'), axios = require('axios'), pg = require('pg'), mysql = require('mysql2'), mysqlPromise = require('mysql2/promise'), _ = require('lodash');
  await step('console', () => console.log({ a: [1, 2] }, 'text', new Error('logged')));
  await step('url', () => { const url = new URL('http://a/b?c=1'); url.searchParams.set('d', '2'); keep(url.href, 'href'); });
  await step('buffer', () => Buffer.from('aGk=', 'base64').toString('hex'));
  await step('timer', () => new Promise((resolve) => setTimeout(resolve, 1)));
  await step('interval', () => new Promise((resolve) => { const id = setInterval(() => { clearInterval(id); resolve(); }, 1); }));
  await step('bcrypt', async () => { const hash = await bcrypt.hash('pw', 4); keep(await bcrypt.compare('pw', hash), 'compare'); });
  await step('bcrypt callback', () => new Promise((resolve) => bcrypt.genSalt(4, (error, salt) => { keep(error, 'cb error'); resolve(salt); })));
  await step('bcrypt sync', () => bcrypt.hashSync('pw', 4));
  await step('axios', async () => keep(await axios.post('http://127.0.0.1:' + port + '/ok', { a: 1 }, { headers: { x: 'y' } }), 'response'));
  await step('axios 404', () => axios.get('http://127.0.0.1:' + port + '/missing'));
  await step('axios refused', () => axios.get('http://127.0.0.1:1/'));
  await step('pg', () => new pg.Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 200 }).connect());
  await step('pg pool', () => new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 200 }).query('select 1'));
  await step('mysql callback', () => new Promise((resolve, reject) => mysql.createConnection({ host: '127.0.0.1', port: 1 }).query('select 1', (error) => (error ? reject(error) : resolve()))));
  await step('mysql promise', () => mysqlPromise.createConnection({ host: '127.0.0.1', port: 1 }));
  await step('lodash', () => keep(_.merge({}, { a: { b: 1 } }, _.pick({ c: 2 }, ['c'])), 'lodash'));
  await step('require', () => require('fs'));
  await step('microtask', () => new Promise((resolve) => queueMicrotask(resolve)));
  return results;
}
`;

describe('built-ins patched to intercept the runtime', () => {
  let harness: Harness;
  let api: Server;
  let apiPort: number;

  before(async () => {
    harness = await createHarness();
    api = createServer((request, response) => {
      response.statusCode = request.url === '/missing' ? 404 : 200;
      response.end(JSON.stringify({ ok: true }));
    });
    apiPort = await listen(api);
  });
  after(async () => {
    await harness.close();
    await new Promise((resolve) => api.close(resolve));
  });

  /** Runs `patch`, drives the shims, and checks that everything the hooks captured is harmless. */
  async function patchAndExercise(patch: string) {
    const outcome = await harness.attack(
      `${SCAN}${RECORDER}${EXERCISE}
      async function main(port) {
        ${patch}
        const steps = await exercise(port);
        restore();
        return { steps, captured: captured.length, findings: __scan(captured.map(([value, where], i) => [value, where + '#' + i])) };
      }`,
      { expect: true, args: [apiPort], limits: { timeoutMs: 3000, cpuTimeMs: 2000 } },
    );
    const result = valueOf<{ steps: string[]; captured: number; findings: string[] }>(outcome);
    assert.deepEqual(result.findings, []);
    assert.ok(result.captured > 0, 'the hooks saw something');
    assert.equal(result.steps.length, 18);
    return result;
  }

  test('accessors on Object.prototype named like isolated-vm options and bridge fields capture nothing of the host', async () => {
    const names = [
      'result',
      'arguments',
      'copy',
      'reference',
      'promise',
      'externalCopy',
      'timeout',
      'filename',
      'release',
      'ok',
      'value',
      'error',
      'handle',
      'state',
      '_state',
      'host',
      'hex',
      '__ferryType',
      'args',
      'name',
      'env',
      'limits',
      'op',
      'mode',
      'data',
      'code',
      'stack',
    ];
    const { steps } = await patchAndExercise(`for (const name of ${JSON.stringify(names)}) trap(Object.prototype, name, 'Object.prototype.' + name);`);
    assert.ok(steps.includes('bcrypt') && steps.includes('axios'), steps.join('; '));
  });

  test('index accessors and methods on Array.prototype capture nothing of the host', async () => {
    await patchAndExercise(`
      for (let i = 0; i < 4; i += 1) trap(Array.prototype, i, 'Array.prototype[' + i + ']');
      for (const name of ['push', 'concat', 'map', 'filter', 'slice', 'join', 'forEach', 'includes', 'indexOf', 'some', 'find', 'reduce', 'splice', 'shift', 'reverse', Symbol.iterator]) spy(Array.prototype, name, 'Array.prototype.' + String(name));
      for (const name of ['isArray', 'from', 'of']) spy(Array, name, 'Array.' + name);`);
  });

  test('Promise.prototype.then, catch, finally and the Promise statics capture nothing of the host', async () => {
    await patchAndExercise(`
      for (const name of ['then', 'catch', 'finally']) spy(Promise.prototype, name, 'Promise.prototype.' + name);
      for (const name of ['resolve', 'reject', 'all', 'race', 'allSettled', 'any', 'withResolvers']) spy(Promise, name, 'Promise.' + name);
      trap(Promise.prototype, 'constructor', 'Promise.prototype.constructor');`);
  });

  test('JSON, Reflect, Object statics and Function.prototype.call, apply and bind capture nothing of the host', async () => {
    await patchAndExercise(`
      for (const name of ['stringify', 'parse']) spy(JSON, name, 'JSON.' + name);
      for (const name of ['apply', 'construct', 'ownKeys', 'defineProperty', 'get', 'set', 'getPrototypeOf', 'has']) spy(Reflect, name, 'Reflect.' + name);
      for (const name of ['keys', 'assign', 'defineProperty', 'freeze', 'getPrototypeOf', 'setPrototypeOf', 'entries', 'fromEntries', 'getOwnPropertyNames', 'create']) spy(Object, name, 'Object.' + name);
      for (const name of ['call', 'apply', 'bind', 'toString']) spy(Function.prototype, name, 'Function.prototype.' + name);
      for (const name of ['captureStackTrace']) spy(Error, name, 'Error.' + name);`);
  });

  test('Map, WeakMap and Set methods, Symbol.iterator and string methods capture nothing of the host', async () => {
    await patchAndExercise(`
      for (const [Class, label] of [[Map, 'Map'], [WeakMap, 'WeakMap'], [Set, 'Set'], [WeakSet, 'WeakSet']]) {
        for (const name of ['get', 'set', 'has', 'delete', 'add', 'forEach', 'keys', 'values', 'entries']) spy(Class.prototype, name, label + '.prototype.' + name);
      }
      trap(Map.prototype, 'size', 'Map.prototype.size');
      for (const name of ['replace', 'split', 'slice', 'toLowerCase', 'toUpperCase', 'includes', 'padStart', 'charCodeAt', 'indexOf']) spy(String.prototype, name, 'String.prototype.' + name);
      for (const name of ['set', 'subarray', 'fill']) spy(Uint8Array.prototype, name, 'Uint8Array.prototype.' + name);`);
  });
});
