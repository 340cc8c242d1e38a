import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { createHarness, valueOf, type Harness } from './attack-harness.ts';

/** Runs `work` while sampling how late a 5 ms interval fires on the host: the worst lag seen. */
async function worstLagDuring<T>(work: () => Promise<T>): Promise<{ result: T; lagMs: number }> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  try {
    return { result: await work(), lagMs: worst };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Attacks on time and memory: loops the isolate's own timeout cannot see, floods of host calls,
 * memory bombs and oversized or pathological sources. Each must end within its deadline and
 * leave the host and the pool healthy.
 */
describe('resource exhaustion', () => {
  let harness: Harness;
  before(async () => {
    harness = await createHarness();
  });
  after(() => harness.close());

  describe('loops and promises that never end', () => {
    test('while (true) {} at top level stops at the CPU limit', async () => {
      const outcome = await harness.attack(`while (true) {}\nasync function main() {}`, { expect: 'timeout' });
      assert.ok(outcome.durationMs < 1500, `${outcome.durationMs} ms`);
    });

    test('while (true) {} after awaiting a bridged call stops at the CPU limit', async () => {
      await harness.attack(`async function main() { await require('bcrypt').genSalt(4); while (true) {} }`, { expect: 'timeout' });
      await harness.attack(`async function main() { await new Promise((resolve) => setTimeout(resolve, 1)); for (;;) {} }`, { expect: 'timeout' });
    });

    test('a microtask loop stops at the CPU limit', async () => {
      await harness.attack(`async function main() { const f = () => Promise.resolve().then(f); f(); await new Promise(() => {}); }`, { expect: 'timeout' });
      await harness.attack(`async function main() { const f = () => queueMicrotask(f); f(); await new Promise(() => {}); }`, { expect: 'timeout' });
    });

    test('awaiting bridged calls forever stops at the wall-clock deadline', async () => {
      const outcome = await harness.attack(`async function main() { const bcrypt = require('bcrypt'); while (true) await bcrypt.genSalt(4); }`, {
        expect: 'timeout',
      });
      assert.ok(outcome.durationMs >= 900, 'ran until the deadline');
    });

    test('a promise that never settles stops at the wall-clock deadline', async () => {
      await harness.attack(`async function main() { await new Promise(() => {}); }`, { expect: 'timeout' });
      await harness.attack(`async function main() { return new Promise(() => {}); }`, { expect: 'timeout', limits: { timeoutMs: 300 } });
    });

    test('a regular expression with catastrophic backtracking stops at the CPU limit', async () => {
      await harness.attack(`async function main() { return /^(a+)+$/.test('a'.repeat(40) + '!'); }`, { expect: 'timeout' });
    });
  });

  describe('floods of host calls', () => {
    test('a million console lines are cut at maxConsoleKb, in a bounded number of entries, without stalling the host', async () => {
      const { result: outcome, lagMs } = await worstLagDuring(() =>
        harness.attack(`async function main() { for (let i = 0; i < 1e6; i += 1) console.log('line ' + i); return 'done'; }`, {
          expect: true,
          limits: { maxConsoleKb: 16 },
        }),
      );
      const bytes = outcome.logs.reduce((sum, line) => sum + line.message.length + 1, 0);
      assert.ok(bytes <= 16 * 1024 + 256, `${bytes} bytes kept`);
      assert.match(outcome.logs.at(-1)!.message, /console output truncated at 16384 bytes/);
      assert.ok(lagMs < 200, `the host's event loop lagged ${Math.round(lagMs)} ms`);
    });

    test('a flood of empty lines runs out too, and a loop printing forever stops at the CPU limit', async () => {
      const before = process.memoryUsage().rss;
      const { result: empty, lagMs } = await worstLagDuring(() =>
        harness.attack(`async function main() { for (;;) console.log(''); }`, { expect: 'timeout', limits: { maxConsoleKb: 16 } }),
      );
      assert.ok(empty.logs.length <= 16 * 1024 + 1, `${empty.logs.length} lines kept`);
      assert.ok(lagMs < 200, `the host's event loop lagged ${Math.round(lagMs)} ms`);
      assert.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, 'host memory stayed bounded');
    });

    test('the first line printed before a hang still reaches the log', async () => {
      const outcome = await harness.attack(`async function main() { console.log('about to hang'); for (;;) {} }`, { expect: 'timeout' });
      assert.equal(outcome.logs[0]?.message, 'about to hang');
    });

    test('timers beyond maxTimers are refused, even when cleared in a loop that never yields', async () => {
      const refused = await harness.attack(`async function main() { for (;;) clearTimeout(setTimeout(() => {}, 1e6)); }`, { expect: 'script_error' });
      assert.ok(!refused.ok && /Too many timers/.test(refused.message));
      await harness.attack(`async function main() { for (;;) setInterval(() => {}, 0); }`, { expect: 'script_error' });
      const patched = await harness.attack(
        `async function main() { Object.defineProperty(Map.prototype, 'size', { get: () => 0 }); for (;;) clearTimeout(setTimeout(() => {}, 1e6)); }`,
        { expect: 'script_error' },
      );
      assert.ok(!patched.ok && /Too many timers/.test(patched.message), 'a patched Map size does not lift the limit');
    });

    test('up to maxTimers timers all fire, and cleared timers give their slot back', async () => {
      const all = await harness.attack(
        `async function main() { let fired = 0; for (let i = 0; i < 60; i += 1) setTimeout(() => { fired += 1; }, 5); await new Promise((resolve) => setTimeout(resolve, 100)); return fired; }`,
        { expect: true },
      );
      assert.equal(valueOf(all), 60);
      const cycled = await harness.attack(
        `async function main() { for (let i = 0; i < 300; i += 1) { const t = setTimeout(() => {}, 60000); await null; clearTimeout(t); await new Promise((resolve) => setTimeout(resolve, 0)); } return 'ok'; }`,
        // 300 round trips to the host: on a loaded machine they outlast the attacks' 1-second deadline.
        { expect: true, limits: { timeoutMs: 5000 } },
      );
      assert.equal(valueOf(cycled), 'ok');
    });

    test('intervals firing as fast as they can until the deadline leave the host responsive', async () => {
      const { lagMs } = await worstLagDuring(() =>
        harness.attack(`async function main() { for (let i = 0; i < 63; i += 1) setInterval(() => {}, 0); await new Promise(() => {}); }`, {
          expect: 'timeout',
        }),
      );
      assert.ok(lagMs < 200, `the host's event loop lagged ${Math.round(lagMs)} ms`);
    });

    test('bridged calls beyond maxBridgeOps at once are refused', async () => {
      const outcome = await harness.attack(
        `async function main() {
          const bcrypt = require('bcrypt');
          const settled = await Promise.allSettled(Array.from({ length: 100 }, () => bcrypt.genSalt(4)));
          const refused = settled.filter((result) => result.status === 'rejected');
          return [settled.length - refused.length, refused[0].reason.message];
        }`,
        { expect: true },
      );
      assert.deepEqual(valueOf(outcome), [16, 'Too many operations in progress at once (the limit is 16); await them before starting more.']);
    });
  });

  describe('expensive host work', () => {
    /** Tries every way a script can make the host hash at `cost`: each entry is the result's type or the error's code. */
    const BCRYPT_AT = String.raw`async function main(cost, hash) {
      const bcrypt = require('bcrypt');
      const out = {};
      const attempt = async (name, run) => { try { out[name] = typeof (await run()); } catch (error) { out[name] = error.code; out.message = error.message; } };
      const salt = '$2b$' + String(cost).padStart(2, '0') + '$' + 'a'.repeat(22);
      const costly = hash.replace(/^\$2b\$\d\d\$/, salt.slice(0, 7));
      await attempt('hash', () => bcrypt.hash('pw', cost));
      await attempt('hash with salt', () => bcrypt.hash('pw', salt));
      await attempt('genSalt', () => bcrypt.genSalt(cost));
      await attempt('hash callback', () => new Promise((resolve, reject) => bcrypt.hash('pw', cost, (error, result) => (error ? reject(error) : resolve(result)))));
      await attempt('hashSync', async () => bcrypt.hashSync('pw', cost));
      await attempt('compare $2b$', () => bcrypt.compare('pw', costly));
      await attempt('compare $2a$', () => bcrypt.compare('pw', costly.replace('$2b$', '$2a$')));
      await attempt('compare $2y$', () => bcrypt.compare('pw', costly.replace('$2b$', '$2y$')));
      await attempt('compareSync', async () => bcrypt.compareSync('pw', costly));
      return out;
    }`;

    test('bcrypt refuses to hash or compare above maxBcryptCost (14 by default) before doing any work', async () => {
      const hash = await bcrypt.hash('pw', 4);
      // Cost 15 would take seconds per call on the host, past the one-second deadline.
      const refused = await harness.attack(BCRYPT_AT, { expect: true, args: [15, hash] });
      const code = 'ERR_FERRY_BCRYPT_COST';
      assert.deepEqual(valueOf(refused), {
        hash: code,
        'hash with salt': code,
        genSalt: code,
        'hash callback': code,
        hashSync: code,
        'compare $2b$': code,
        'compare $2a$': code,
        'compare $2y$': code,
        compareSync: code,
        message: 'bcrypt cost must be between 4 and 14.',
      });
      const low = await harness.attack(BCRYPT_AT, { expect: true, args: [3, hash] });
      assert.equal(valueOf<Record<string, string>>(low).hash, code, 'and below 4');
    });

    test('a lowered maxBcryptCost is the cap: its own cost passes, one more is refused', async () => {
      const hash = await bcrypt.hash('pw', 5);
      const limits = { maxBcryptCost: 5 };
      const atCap = await harness.attack(BCRYPT_AT, { expect: true, args: [5, hash], limits });
      assert.deepEqual(valueOf(atCap), {
        hash: 'string',
        'hash with salt': 'string',
        genSalt: 'string',
        'hash callback': 'string',
        hashSync: 'string',
        'compare $2b$': 'boolean',
        'compare $2a$': 'boolean',
        'compare $2y$': 'boolean',
        compareSync: 'boolean',
      });
      const over = await harness.attack(BCRYPT_AT, { expect: true, args: [6, hash], limits });
      assert.deepEqual(
        new Set(
          Object.entries(valueOf<Record<string, string>>(over))
            .filter(([key]) => key !== 'message')
            .map(([, result]) => result),
        ),
        new Set(['ERR_FERRY_BCRYPT_COST']),
      );
      assert.equal(valueOf<Record<string, string>>(over).message, 'bcrypt cost must be between 4 and 5.');
    });
  });

  describe('memory bombs', () => {
    // Bombs that grow the heap slowly (a Map, objects in an array, deep JSON) can make V8 give up
    // on the isolate itself; they run in a child process in attacks-catastrophic.test.ts.
    const bombs: [string, string][] = [
      ['spreading a billion-character string', `[...'x'.repeat(1e9)]`],
      ['doubling a string', `(() => { let s = 'x'; for (;;) s += s; })()`],
      ['a 2 GiB ArrayBuffer', `new ArrayBuffer(2 ** 31)`],
      ['a 2^31-element Uint8Array', `new Uint8Array(2 ** 31)`],
      ['many 16 MiB buffers', `(() => { const all = []; for (;;) all.push(new Uint8Array(16 * 1024 * 1024).fill(1)); })()`],
      ['an array of numbers growing without bound', `(() => { const all = []; for (let i = 0; ; i += 1) all.push(i); })()`],
    ];
    for (const [name, expression] of bombs) {
      test(`${name} ends as memory or a script error, and the next script runs`, async () => {
        const outcome = await harness.attack(`async function main() { return ${expression}; }`, { expect: ['memory', 'timeout', 'script_error'] });
        if (!outcome.ok && outcome.kind === 'script_error')
          assert.match(outcome.message, /Invalid (string|array|typed array) length|Array buffer allocation failed/i);
      });
    }

    test('JSON.parse of brackets nested twenty million deep is refused before V8 parses it outside the heap', async () => {
      let peak = 0;
      const base = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - base)), 5);
      try {
        // Checking the depth of forty million characters takes a few hundred ms of the script's CPU time.
        const outcome = await harness.attack(`async function main() { const n = 2e7; return JSON.parse('['.repeat(n) + ']'.repeat(n)); }`, {
          expect: 'script_error',
          limits: { cpuTimeMs: 3000, timeoutMs: 3000 },
        });
        assert.ok(!outcome.ok && /JSON nesting deeper than 5000 levels/.test(outcome.message), outcome.ok ? '' : outcome.message);
      } finally {
        clearInterval(sampler);
      }
      assert.ok(peak < 200 * 1024 * 1024, `the host's memory grew by ${Math.round(peak / 1024 / 1024)} MiB`);
      const normal = await harness.attack(
        `async function main() { return JSON.parse(JSON.stringify({ a: [1, { b: '[[[{"' }], deep: JSON.parse('['.repeat(100) + ']'.repeat(100)) })).a; }`,
        { expect: true },
      );
      assert.deepEqual(valueOf(normal), [1, { b: '[[[{"' }]);
    });

    test('a memory bomb caught by the script leaves the isolate usable or replaced', async () => {
      await harness.attack(`async function main() { try { new ArrayBuffer(2 ** 31); } catch (error) { return error.name; } }`, { expect: ['ok', 'memory'] });
    });
  });

  describe('sources', () => {
    test('deeply nested brackets in the source are a syntax error, not a crash', async () => {
      const outcome = await harness.attack(`async function main() { return ${'['.repeat(1e5)}${']'.repeat(1e5)}; }`, {
        expect: 'syntax',
        limits: { maxScriptKb: 512 },
      });
      assert.ok(!outcome.ok && outcome.message.length < 2000);
      await harness.attack(`async function main() { return ${'('.repeat(1e5)}1${')'.repeat(1e5)}; }`, {
        expect: ['syntax', 'script_error'],
        limits: { maxScriptKb: 512 },
      });
      await harness.attack(`async function main() { return ${'{a:'.repeat(3e4)}1${'}'.repeat(3e4)}; }`, {
        expect: ['syntax', 'script_error', 'ok'],
        limits: { maxScriptKb: 512 },
      });
    });

    test('a source over maxScriptKb is refused as syntax before it is compiled', async () => {
      const outcome = await harness.attack(`async function main() { return 1; }\n//${'x'.repeat(300 * 1024)}`, { expect: 'syntax' });
      assert.ok(!outcome.ok && /the limit is 256 KiB/.test(outcome.message));
      assert.ok(outcome.durationMs < 50, `refused in ${outcome.durationMs} ms`);
    });

    test('deep recursion is a script error (RangeError), and the isolate stays usable', async () => {
      const outcome = await harness.attack(`async function main() { const f = (n) => f(n + 1) + 1; return f(0); }`, { expect: 'script_error' });
      assert.ok(!outcome.ok && /Maximum call stack size exceeded/.test(outcome.message));
      const caught = await harness.attack(`async function main() { const f = (n) => f(n + 1) + 1; try { f(0); } catch (error) { return error.name; } }`, {
        expect: true,
      });
      assert.equal(valueOf(caught), 'RangeError');
    });

    test('a script that does not define the function, or defines it as something else, is a syntax outcome', async () => {
      await harness.attack(`const main = 1;`, { expect: 'syntax' });
      await harness.attack(`async function other() {}`, { expect: 'syntax' });
      await harness.attack(`async function main() { /* unterminated`, { expect: 'syntax' });
    });
  });
});
