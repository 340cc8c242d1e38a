import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ALLOWED_MODULES } from '../../src/sandbox/index.ts';
import { createHarness, listen, valueOf, type Harness } from './attack-harness.ts';
import { CHAINS, FRAMES, SCAN } from './isolate-probes.ts';

/**
 * Attacks that look for a way out of the isolate: host globals, constructor chains, stack-trace
 * call sites, patched built-ins and the runtime's own entry points.
 */
describe('sandbox escape attempts', () => {
  let harness: Harness;
  let api: ReturnType<typeof createServer>;
  let apiPort: number;

  before(async () => {
    harness = await createHarness();
    api = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.statusCode = request.url === '/missing' ? 404 : 200;
      response.end(JSON.stringify({ path: request.url }));
    });
    apiPort = await listen(api);
  });
  after(async () => {
    await harness.close();
    await new Promise((resolve) => api.close(resolve));
  });

  /**
   * A script body (inside `async function main(port)`) that collects `roots`: every kind of
   * value a script can get its hands on without a database.
   */
  const COLLECT_ROOTS = `
    const roots = [[globalThis, 'globalThis'], [topLevelThis, 'top-level this'], [arguments, 'arguments'], [main, 'main'], [env, 'env'],
      [console, 'console'], [console.log, 'console.log'], [require, 'require'], [Buffer, 'Buffer'], [Buffer.from('x'), 'a Buffer'],
      [new URL('http://a/b?c=d'), 'a URL'], [new URL('http://a/b?c=d').searchParams, 'searchParams'], [new TextEncoder(), 'TextEncoder'],
      [new TextDecoder(), 'TextDecoder']];
    for (const name of ['pg', 'mysql2', 'mysql2/promise', 'mongodb', 'mssql', 'axios', 'bcrypt', 'lodash']) roots.push([require(name), 'require(' + name + ')']);
    const pg = require('pg'), mysql = require('mysql2'), axios = require('axios'), bcrypt = require('bcrypt');
    roots.push([new pg.Client({}), 'pg.Client'], [new pg.Pool({}), 'pg.Pool'], [mysql.createConnection({}), 'mysql connection'],
      [mysql.createPool({}), 'mysql pool'], [axios.create(), 'axios instance'], [new (require('mongodb').MongoClient)('mongodb://x'), 'MongoClient']);
    const timer = setTimeout(() => {}, 1); const interval = setInterval(() => {}, 1000); clearInterval(interval);
    roots.push([timer, 'setTimeout result'], [interval, 'setInterval result'], [setImmediate(() => {}), 'setImmediate result']);
    const saltPromise = bcrypt.genSalt(4);
    roots.push([saltPromise, 'a shim promise'], [await saltPromise, 'its result']);
    const response = await axios.get('http://127.0.0.1:' + port + '/ok');
    roots.push([response, 'axios response'], [response.headers, 'axios headers'], [response.data, 'axios data']);
    for (const [label, attempt] of [
      ['axios error', () => axios.get('http://127.0.0.1:' + port + '/missing')],
      ['axios connection error', () => axios.get('http://127.0.0.1:1/')],
      ['pg connect error', () => new pg.Client('postgres://u:pw@127.0.0.1:1/db').connect()],
      ['bcrypt error', () => bcrypt.hash('x', 99)],
      ['URL error', async () => new URL('nope')],
      ['require error', async () => require('fs')],
      ['import error', () => import('fs')],
    ]) {
      try { await attempt(); roots.push([undefined, label + ' did not fail']); } catch (error) { roots.push([error, label]); }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));`;
  const withRoots = (body: string) => `${SCAN}${CHAINS}const topLevelThis = this;\nasync function main(port) {${COLLECT_ROOTS}\n${body}\n}`;

  test('the leak scan itself finds a planted native function and an isolated-vm-like property', async () => {
    const findings = valueOf<string[]>(
      await harness.run(`${SCAN}async function main() { return __scan([[{ bound: (() => 1).bind(null), ref: { applySync() {} } }, 'planted']]); }`),
    );
    assert.deepEqual(findings, ['planted.bound: native function outside the built-ins', 'planted.ref.applySync: isolated-vm-like property']);
  });

  test('host globals are absent: process, require("fs"), module, gc, the bridge and the setup entry', async () => {
    const outcome = await harness.attack(
      `async function main() {
        const probe = (read) => { try { return String(read()); } catch (error) { return 'threw ' + error.name; } };
        return {
          process: typeof process, module: typeof module, exports: typeof exports, globalRequire: typeof globalThis.process,
          // Ferry sets V8's --expose-gc for a moment to collect at exit (src/sandbox/index.ts): never for a script.
          gc: typeof gc,
          fs: probe(() => require('fs')), host: typeof globalThis.__ferry_host, setup: typeof globalThis.__ferry_setup,
          ownNames: Object.getOwnPropertyNames(globalThis).filter((name) => /ferry|ivm|isolate|host/i.test(name)),
          fromFunction: probe(() => Function('return typeof process')()),
          fromThis: probe(() => Function('return this')().process),
          fromEval: probe(() => (0, eval)('typeof process')),
        };
      }`,
      { expect: true },
    );
    assert.deepEqual(valueOf(outcome), {
      process: 'undefined',
      module: 'undefined',
      exports: 'undefined',
      globalRequire: 'undefined',
      gc: 'undefined',
      fs: 'threw Error',
      host: 'undefined',
      setup: 'undefined',
      ownNames: ['__ferry_invoke'],
      fromFunction: 'undefined',
      fromThis: 'undefined',
      fromEval: 'undefined',
    });
  });

  test('nothing reachable from globals, modules, shim instances, timers, promises, results and errors is a host function or an isolated-vm object', async () => {
    const outcome = await harness.attack(withRoots('return { roots: roots.length, findings: __scan(roots) };'), { expect: true, args: [apiPort] });
    const { roots, findings } = valueOf<{ roots: number; findings: string[] }>(outcome);
    assert.ok(roots > 35, `${roots} roots were scanned`);
    assert.deepEqual(findings, []);
  });

  test("constructor chains from every reachable value end at the isolate's own Function, which sees no process and no fs", async () => {
    const outcome = await harness.attack(
      withRoots(`
        const reached = roots.filter(([value]) => value !== undefined).flatMap(([value, label]) => __chains(label, value));
        return { count: reached.length, missing: roots.filter(([value]) => value === undefined).map(([, label]) => label),
          foreign: reached.filter((item) => !item.sameRealm || !['undefined,refused,own', 'async', 'generator'].includes(item.sees)) };`),
      { expect: true, args: [apiPort] },
    );
    const { count, missing, foreign } = valueOf<{ count: number; missing: string[]; foreign: unknown[] }>(outcome);
    assert.deepEqual(missing, [], 'every error attempt failed as expected');
    assert.ok(count > 100, `${count} chains were followed`);
    assert.deepEqual(foreign, []);
  });

  test('the classic one-liners reach no host: this.constructor.constructor, an error thrown by a shim, an async function constructor', async () => {
    const outcome = await harness.attack(
      `const self = this;
      async function main() {
        const results = {};
        const attempt = async (name, run) => { try { const value = await run(); results[name] = value === undefined ? 'undefined' : typeof value === 'object' ? 'object:' + Object.keys(value).join(',') : String(value); } catch (error) { results[name] = 'threw ' + error.name; } };
        await attempt('this', () => self.constructor.constructor('return process')());
        await attempt('error', () => { try { require('fs'); } catch (error) { return error.constructor.constructor('return process')(); } });
        await attempt('console', () => console.log.constructor('return process')());
        await attempt('require', () => require.constructor('return process')());
        await attempt('env', () => env.constructor.constructor('return process')());
        await attempt('proto', () => ({}).__proto__.constructor.constructor('return globalThis.process')());
        await attempt('async function constructor', () => main.constructor('return process')());
        await attempt('generator constructor', () => (function* () {}).constructor('yield process')().next().value);
        await attempt('bind', () => Function.prototype.bind.call(Function, null, 'return process')()());
        return results;
      }`,
      { expect: true },
    );
    const results = valueOf<Record<string, string>>(outcome);
    assert.equal(Object.keys(results).length, 9);
    for (const [name, result] of Object.entries(results)) assert.match(result, /^(threw ReferenceError|undefined)$/, name);
  });

  test('calling __ferry_invoke early consumes the call once; a second call fails as a script error', async () => {
    const outcome = await harness.attack(
      `let first;
      async function main() { return 'ran'; }
      first = __ferry_invoke();`,
      { expect: ['script_error'] },
    );
    assert.ok(!outcome.ok && /pendingCall|destructure|undefined/i.test(outcome.message), outcome.ok ? '' : outcome.message);
  });

  test('replacing __ferry_invoke only changes what the script returns, and a Proxy or an accessor there is refused', async () => {
    await harness.attack(`function __ferry_invoke() { return new Proxy({}, { get: () => 'x' }); }\nasync function main() {}`, { expect: 'invalid_result' });
    // isolated-vm refuses to copy accessors rather than run them: no script code runs during the copy.
    const getter = await harness.attack(`function __ferry_invoke() { return { get id() { return 7; } }; }\nasync function main() {}`, {
      expect: ['invalid_result', 'script_error'],
    });
    assert.ok(!getter.ok && /illegal access|could not be cloned/.test(getter.message), getter.ok ? '' : getter.message);
  });

  test('require of anything but the allowed modules fails with the list of allowed modules', async () => {
    const names = [
      'fs',
      'child_process',
      'net',
      'node:fs',
      '../../src/log.ts',
      '/etc/passwd',
      './pg',
      'pg/lib/client',
      'PG',
      'lodash/template',
      '',
      'constructor',
      '__proto__',
      'hasOwnProperty',
    ];
    const outcome = await harness.attack(
      `async function main(names) {
        const out = [];
        for (const name of names) { try { require(name); out.push([name, 'loaded']); } catch (error) { out.push([name, error.code + ': ' + error.message]); } }
        try { require({ toString() { return 'pg'; } }); out.push(['object', 'loaded']); } catch (error) { out.push(['object', error.code]); }
        return out;
      }`,
      { expect: true, args: [names] },
    );
    const results = Object.fromEntries(valueOf<[string, string][]>(outcome));
    assert.equal(results.object, 'MODULE_NOT_FOUND');
    for (const name of names) {
      assert.ok(results[name]?.startsWith('MODULE_NOT_FOUND: '), `${name}: ${results[name]}`);
      assert.ok(results[name]!.includes(ALLOWED_MODULES.join(', ')), `${name}: the error lists the allowed modules`);
    }
    const thrown = await harness.attack(`async function main() { require('child_process').execSync('id'); }`, { expect: 'script_error' });
    assert.ok(!thrown.ok && thrown.message.includes("Cannot find module 'child_process'"));
  });

  test('dynamic import is rejected for built-ins, files and data URLs', async () => {
    const outcome = await harness.attack(
      `async function main() {
        const out = [];
        for (const specifier of ['fs', 'node:child_process', 'file:///etc/passwd', 'data:text/javascript,export default 1', './main.js']) {
          try { await import(specifier); out.push('loaded ' + specifier); } catch (error) { out.push(error.message); }
        }
        return out;
      }`,
      { expect: true },
    );
    for (const result of valueOf<string[]>(outcome)) assert.doesNotMatch(result, /^loaded/);
    await harness.attack(`async function main() { return (await import('fs')).readFileSync('/etc/passwd', 'utf8'); }`, { expect: 'script_error' });
  });

  test('SharedArrayBuffer, WebAssembly and Atomics.wait are unavailable', async () => {
    const outcome = await harness.attack(
      `async function main() {
        return { sab: typeof SharedArrayBuffer, wasm: typeof WebAssembly, wait: typeof Atomics.wait, waitAsync: typeof Atomics.waitAsync,
          viaGlobal: typeof globalThis['Shared' + 'ArrayBuffer'], notify: Atomics.notify(new Int32Array(4), 0, 1) };
      }`,
      { expect: true },
    );
    assert.deepEqual(valueOf(outcome), { sab: 'undefined', wasm: 'undefined', wait: 'undefined', waitAsync: 'undefined', viaGlobal: 'undefined', notify: 0 });
  });

  test('a WebAssembly infinite loop never starts: each way of building it fails at once as a script error', async () => {
    // (module (func (export "loop") (loop (br 0)))), checked with the host's WebAssembly (absent from the DOM-less typings).
    const LOOP = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 8, 1, 4, 108, 111, 111, 112, 0, 0, 10, 9, 1, 7, 0, 3, 64, 12, 0, 11, 11];
    const wasm = (globalThis as unknown as { WebAssembly: { Module: { new (bytes: Uint8Array): object; exports(module: object): unknown } } }).WebAssembly;
    assert.deepEqual(wasm.Module.exports(new wasm.Module(Uint8Array.from(LOOP))), [{ name: 'loop', kind: 'function' }]);
    for (const source of [
      `async function main(bytes) { new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes))).exports.loop(); }`,
      `async function main(bytes) { const { instance } = await WebAssembly.instantiate(new Uint8Array(bytes)); instance.exports.loop(); }`,
      `async function main(bytes) { const wasm = Function('return this')()['Web' + 'Assembly']; (await wasm.instantiate(Buffer.from(bytes))).instance.exports.loop(); }`,
    ]) {
      const outcome = await harness.attack(source, { expect: 'script_error', args: [LOOP] });
      assert.ok(
        !outcome.ok && /^(WebAssembly is not defined|Cannot read properties of undefined \(reading 'instantiate'\))$/.test(outcome.message),
        outcome.ok ? '' : outcome.message,
      );
    }
  });

  test('Atomics.wait cannot block the isolate: there is no shared memory to wait on, and no wait', async () => {
    const shared = await harness.attack(
      `async function main() { const cell = new Int32Array(new SharedArrayBuffer(4)); Atomics.wait(cell, 0, 0); return 'woke'; }`,
      { expect: 'script_error' },
    );
    assert.ok(!shared.ok && shared.message === 'SharedArrayBuffer is not defined', shared.ok ? '' : shared.message);
    const plain = await harness.attack(`async function main() { Atomics.wait(new Int32Array(4), 0, 0, 60000); return 'woke'; }`, { expect: 'script_error' });
    assert.ok(!plain.ok && plain.message === 'Atomics.wait is not a function', plain.ok ? '' : plain.message);
    const waitAsync = await harness.attack(`async function main() { await Atomics.waitAsync(new Int32Array(4), 0, 0).value; return 'woke'; }`, {
      expect: 'script_error',
    });
    assert.ok(!waitAsync.ok && waitAsync.message === 'Atomics.waitAsync is not a function', waitAsync.ok ? '' : waitAsync.message);
  });

  describe('stack-trace call sites', () => {
    const RUNTIME_FRAMES = (frames: { file: string; hasThis: boolean; hasFunction: boolean; fn: string }[]) =>
      frames.filter((frame) => frame.file !== 'file:///scripts/main.js' && (frame.hasThis || frame.hasFunction));

    test('getThis and getFunction give nothing for runtime frames around shim errors, encoders, callbacks, timers and interceptors', async () => {
      const outcome = await harness.attack(
        `${FRAMES}
        async function main(port) {
          const bcrypt = require('bcrypt'), axios = require('axios'), pg = require('pg');
          const stacks = [];
          try { await new pg.Client('postgres://u:pw@127.0.0.1:1/db').connect(); } catch (error) { stacks.push(error.stack); }
          try { await bcrypt.hash('x', 99); } catch (error) { stacks.push(error.stack); }
          try { new URL('nope'); } catch (error) { stacks.push(error.stack); }
          try { require('fs'); } catch (error) { stacks.push(error.stack); }
          await bcrypt.hash(new (class Secret { toJSON() { stacks.push(__capture()); return 'x'; } })(), 4);
          await bcrypt.compare({ get length() { stacks.push(__capture()); return 1; } }, 'x').catch(() => {});
          const args = []; Object.defineProperty(args, 0, { get() { stacks.push(__capture()); return 'x'; }, enumerable: true });
          await axios.post('http://127.0.0.1:' + port + '/ok', { list: args, get field() { stacks.push(__capture()); return 1; } });
          await new Promise((resolve) => bcrypt.genSalt(4, (error, salt) => { stacks.push(__capture()); resolve(); }));
          await new Promise((resolve) => setTimeout(() => { stacks.push(__capture()); resolve(); }, 1));
          await new Promise((resolve) => { const id = setInterval(() => { stacks.push(__capture()); clearInterval(id); resolve(); }, 1); });
          await new Promise((resolve) => queueMicrotask(() => { stacks.push(__capture()); resolve(); }));
          await new Promise((resolve) => setImmediate(() => { stacks.push(__capture()); resolve(); }));
          const client = axios.create();
          client.interceptors.request.use((config) => { stacks.push(__capture()); return config; });
          client.interceptors.response.use((response) => { stacks.push(__capture()); return response; });
          await client.get('http://127.0.0.1:' + port + '/ok');
          await bcrypt.genSalt(4).then(() => stacks.push(__capture()));
          // While a bridged call is in flight: a timer fires during a slow hash.
          let during;
          setTimeout(() => { during = __capture(); }, 1);
          await bcrypt.hash('x', 10);
          stacks.push(during);
          return { stacks: stacks.length, recorded: stacks.every((stack) => stack === 'recorded'), frames: __frames };
        }`,
        { expect: true, args: [apiPort], limits: { timeoutMs: 3000, cpuTimeMs: 1000 } },
      );
      const { stacks, recorded, frames } = valueOf<{
        stacks: number;
        recorded: boolean;
        frames: { file: string; hasThis: boolean; hasFunction: boolean; fn: string }[];
      }>(outcome);
      assert.equal(stacks, 17);
      assert.ok(recorded, 'every stack went through the recording prepareStackTrace');
      assert.ok(
        frames.some((frame) => frame.file === 'ferry:runtime.js'),
        'runtime frames were seen',
      );
      assert.deepEqual(RUNTIME_FRAMES(frames), []);
    });
  });
});
