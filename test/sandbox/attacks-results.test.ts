import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, valueOf, type Harness } from './attack-harness.ts';

/** True when every object in `value` is a plain object or array of the host's own realm. */
function plainAllTheWay(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 100) return typeof value !== 'function';
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype) return false;
  return Reflect.ownKeys(value).every((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    return typeof key === 'string' && 'value' in descriptor && plainAllTheWay(descriptor.value, depth + 1);
  });
}

/**
 * What a script hands back, or hands to the shims, may be hostile: proxies, getters, thenables,
 * prototype keys, callbacks called twice. All of it must be contained and arrive as plain data.
 */
describe('hostile results, arguments and callbacks', () => {
  let harness: Harness;
  before(async () => {
    harness = await createHarness();
  });
  after(() => harness.close());

  describe('results', () => {
    test('a Proxy result is read through its traps and arrives as a plain object', async () => {
      const outcome = await harness.attack(
        `async function main() {
          return new Proxy({}, { ownKeys: () => ['id', 'email'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }), get: (_, key) => 'proxied ' + String(key) });
        }`,
        { expect: true },
      );
      assert.deepEqual(valueOf(outcome), { id: 'proxied id', email: 'proxied email' });
      assert.ok(plainAllTheWay(valueOf(outcome)));
    });

    test('a Proxy that pretends to be a Date, a revoked Proxy and a trap that never returns are refused or stopped', async () => {
      await harness.attack(`async function main() { return new Proxy({}, { getPrototypeOf: () => Date.prototype }); }`, {
        expect: ['invalid_result', 'script_error'],
      });
      await harness.attack(`async function main() { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return { proxy }; }`, {
        expect: 'script_error',
      });
      await harness.attack(`async function main() { return new Proxy({}, { ownKeys() { for (;;) {} } }); }`, { expect: 'timeout' });
    });

    test('getters in a result run inside the isolate; one that throws or loops ends the execution', async () => {
      const outcome = await harness.attack(
        `async function main() { let n = 0; return { get id() { n += 1; return 'u' + n; }, list: [{ get x() { return 2; } }] }; }`,
        { expect: true },
      );
      assert.deepEqual(valueOf(outcome), { id: 'u1', list: [{ x: 2 }] });
      await harness.attack(`async function main() { return { get id() { throw new Error('boom'); } }; }`, { expect: 'script_error' });
      await harness.attack(`async function main() { return { get id() { for (;;) {} } }; }`, { expect: 'timeout' });
      await harness.attack(`async function main() { const huge = []; return { get id() { for (;;) huge.push('x'.repeat(1000)); } }; }`, {
        expect: ['memory', 'timeout'],
        limits: { cpuTimeMs: 1000 },
      });
    });

    test('__proto__ and constructor keys in a returned profile arrive as own data and pollute nothing', async () => {
      const outcome = await harness.attack(
        `async function main() {
          return JSON.parse('{"id":"1","__proto__":{"polluted":"yes","isAdmin":true},"constructor":{"prototype":{"polluted":"yes"}},"nested":{"__proto__":{"polluted":"yes"}},"list":[{"__proto__":{"polluted":"yes"}}]}');
        }`,
        { expect: true, validate: (value) => ((value as { isAdmin?: unknown }).isAdmin ? 'inherited isAdmin' : undefined) },
      );
      const profile = valueOf<Record<string, unknown>>(outcome);
      assert.ok(plainAllTheWay(profile), 'only plain objects and arrays, no injected prototype');
      assert.equal(profile.isAdmin, undefined);
      assert.equal(profile.polluted, undefined);
      assert.deepEqual(
        Object.getOwnPropertyDescriptor(profile, '__proto__')?.value,
        { polluted: 'yes', isAdmin: true },
        'kept as data, for the profile checks to refuse',
      );
      assert.deepEqual(profile.constructor, { prototype: { polluted: 'yes' } });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    test('an object tagged like a boundary ObjectId cannot carry a prototype into the host', async () => {
      const outcome = await harness.attack(
        `async function main() {
          return JSON.parse('{"__ferryType":"x","id":"1","__proto__":{"isAdmin":true,"polluted":"yes"},"inner":{"__ferryType":"ObjectId","hex":{"__proto__":{"isAdmin":true}}}}');
        }`,
        { expect: true },
      );
      const value = valueOf<Record<string, unknown>>(outcome);
      assert.ok(plainAllTheWay(value), `plain data only: prototype ${Object.getPrototypeOf(value) === Object.prototype ? 'ok' : 'replaced'}`);
      assert.equal(value.isAdmin, undefined);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    test('a result nested 100,000 deep is cut or refused, never a host crash', async () => {
      // On a loaded machine copying it can outlast the attack's 500 ms of CPU: stopped is contained too.
      await harness.attack(`async function main() { let value = { id: 'leaf' }; for (let i = 0; i < 100000; i += 1) value = [value]; return value; }`, {
        expect: ['ok', 'invalid_result', 'script_error', 'timeout'],
      });
    });

    test('thenables: one that never calls back times out, one that calls back twice settles once, one that throws fails', async () => {
      await harness.attack(`async function main() { return { then() {} }; }`, { expect: 'timeout' });
      const twice = await harness.attack(`async function main() { return { then(resolve) { resolve({ id: 'first' }); resolve({ id: 'second' }); } }; }`, {
        expect: true,
      });
      assert.deepEqual(valueOf(twice), { id: 'first' });
      await harness.attack(`async function main() { return { then() { throw new Error('then threw'); } }; }`, { expect: 'script_error' });
      const nested = await harness.attack(
        `async function main() { const next = (n) => ({ then(resolve) { resolve(n ? next(n - 1) : { id: 'deep' }); } }); return next(1000); }`,
        { expect: true },
      );
      assert.deepEqual(valueOf(nested), { id: 'deep' });
      await harness.attack(`async function main() { const loop = { then(resolve) { resolve(loop); } }; return loop; }`, { expect: 'timeout' });
      const resolvedTwice = await harness.attack(
        `async function main() { return new Promise((resolve, reject) => { resolve(1); resolve(2); reject(new Error('late')); }); }`,
        { expect: true },
      );
      assert.equal(valueOf(resolvedTwice), 1);
    });

    test('strange things thrown end as script errors: a Proxy, null, a Symbol, a getter message that throws', async () => {
      for (const thrown of [
        'new Proxy({}, { get() { throw new Error("trap"); } })',
        'null',
        'Symbol("s")',
        '{ get message() { throw new Error("nested"); } }',
        'Object.create(null)',
      ]) {
        await harness.attack(`async function main() { throw ${thrown}; }`, { expect: 'script_error' });
      }
      await harness.attack(`async function main() { throw { get message() { for (;;) {} } }; }`, { expect: ['script_error', 'timeout'] });
    });

    test('a thirty-million-character error message, thrown or uncaught in a timer, reaches the outcome cut to 2,000 characters', async () => {
      for (const source of [
        `async function main() { throw new Error('x'.repeat(3e7)); }`,
        // (Waiting on a timer: a bare `new Promise(() => {})` may be collected first, and that ends the script as a timeout.)
        `async function main() { setTimeout(() => { throw new Error('x'.repeat(3e7)); }, 1); await new Promise((resolve) => setTimeout(resolve, 60000)); }`,
      ]) {
        // Building such a string, an error and (for the uncaught one) its stack takes a few hundred ms of CPU time.
        const outcome = await harness.attack(source, { expect: 'script_error', limits: { cpuTimeMs: 3000, timeoutMs: 3000 } });
        assert.ok(
          !outcome.ok && outcome.message.length === 2001 && outcome.message.endsWith('x…'),
          outcome.ok ? '' : `${outcome.message.length} characters: ${outcome.message.slice(0, 100)}`,
        );
      }
    });
  });

  describe('arguments to shims', () => {
    test('a Proxy or accessor object as bcrypt data, axios config, URL input, console argument or Buffer source is contained', async () => {
      const outcome = await harness.attack(
        `async function main() {
          const bcrypt = require('bcrypt'), axios = require('axios');
          const hostile = new Proxy({}, { get: (_, key) => (key === Symbol.toPrimitive ? () => 'p' : key === 'toString' ? () => 'p' : 'x'), ownKeys: () => ['a'], getOwnPropertyDescriptor: () => ({ value: 'x', enumerable: true, configurable: true }) });
          const results = [];
          const attempt = async (name, run) => { try { await run(); results.push(name + ': ok'); } catch (error) { results.push(name + ': ' + error.message); } };
          await attempt('bcrypt', () => bcrypt.hash(hostile, 4));
          await attempt('bcrypt salt', () => bcrypt.hash('x', hostile));
          await attempt('bcrypt sync', () => bcrypt.hashSync(hostile, 4));
          await attempt('axios config', () => axios(new Proxy({ url: 'http://127.0.0.1:1/', method: 'get' }, {})));
          await attempt('axios headers', () => axios.get('http://127.0.0.1:1/', { headers: hostile, params: hostile }));
          await attempt('url', () => new URL(hostile));
          await attempt('console', () => console.log(hostile, { get a() { return 1; } }));
          await attempt('buffer', () => Buffer.from(hostile));
          await attempt('revoked', () => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return bcrypt.hash(proxy, 4); });
          return results;
        }`,
        { expect: true },
      );
      assert.equal(valueOf<string[]>(outcome).length, 9);
    });

    test('an argument nested 100,000 deep is refused by the boundary', async () => {
      const outcome = await harness.attack(
        `async function main() {
          let deep = ['leaf']; for (let i = 0; i < 100000; i += 1) deep = [deep];
          try { await require('bcrypt').hash(deep, 4); return 'accepted'; } catch (error) { return error.message; }
        }`,
        { expect: true },
      );
      assert.notEqual(valueOf(outcome), 'accepted');
    });
  });

  describe('callbacks', () => {
    test('a shim calls a Node-style callback exactly once, and an exception thrown in it ends the execution as in Node', async () => {
      const outcome = await harness.attack(
        `async function main() {
          const bcrypt = require('bcrypt');
          let calls = 0;
          let both;
          const answered = new Promise((resolve) => (both = resolve));
          const callback = () => { calls += 1; if (calls === 2) both(); };
          bcrypt.genSalt(4, callback);
          bcrypt.hash('x', 4, callback);
          // Both answers, however slow the machine, then time for a second call of either.
          await answered;
          await new Promise((resolve) => setTimeout(resolve, 50));
          return calls;
        }`,
        { expect: true },
      );
      assert.equal(valueOf(outcome), 2);
      const thrown = await harness.attack(
        `async function main() {
          require('bcrypt').genSalt(4, () => { throw new Error('thrown in a callback'); });
          await new Promise((resolve) => setTimeout(resolve, 200));
          return 'finished';
        }`,
        { expect: 'script_error' },
      );
      assert.ok(!thrown.ok && thrown.message === 'thrown in a callback');
    });

    test('exceptions thrown in timers and microtasks end the execution as script errors', async () => {
      await harness.attack(`async function main() { setTimeout(() => { throw new Error('timer'); }, 1); await new Promise((r) => setTimeout(r, 200)); }`, {
        expect: 'script_error',
      });
      await harness.attack(`async function main() { queueMicrotask(() => { throw new Error('microtask'); }); await new Promise((r) => setTimeout(r, 200)); }`, {
        expect: 'script_error',
      });
      await harness.attack(
        `async function main() { for (let i = 0; i < 100000; i += 1) queueMicrotask(() => { throw new Error('many'); }); await new Promise((r) => setTimeout(r, 200)); }`,
        { expect: 'script_error' },
      );
    });
  });
});
