import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const CHILD = join(import.meta.dirname, 'catastrophic-child.ts');

interface ChildReport {
  records: Record<string, unknown>[];
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds between the child's last line ('done', just before it is told to exit) and its end. */
  exitMs: number;
}

/** Runs a bomb in catastrophic-child.ts; fails if the child has not ended within `limitMs`. */
function runChild(expression: string, mode: 'processes' | 'in-process', limitMs = 30_000): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', CHILD, expression, '3', mode], { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    let doneAt: number | undefined;
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not end within ${limitMs} ms; it printed:\n${output}`));
    }, limitMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('"step":"done"')) doneAt ??= performance.now();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      const records = output
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ records, code, signal, exitMs: doneAt === undefined ? Number.NaN : performance.now() - doneAt });
    });
  });
}

/**
 * Memory bombs that grow hash tables or the heap slowly can make V8 itself give up on an isolate
 * (CALL_AND_RETRY_LAST: a table's next growth does not fit, and V8 never asks isolated-vm for
 * more), whatever the memory limit. isolated-vm then reports a catastrophic error and parks the
 * isolate's thread for good. Each bomb runs in a child process with a sandbox of its own.
 *
 * With sandbox processes (Ferry's default) the bomb ends as an ordinary outcome, or as
 * `unavailable` when it cost its sandbox process, and the next script runs either way (in a
 * replacement process). In-process (`sandboxProcesses: 0`) the sandbox fails closed instead:
 * every later script is refused with sandbox_error, while the process stays responsive and can
 * still exit.
 */
const BOMBS: [string, string][] = [
  ['an object used as a dictionary growing without bound', `(() => { const o = {}; for (let i = 0; ; i += 1) o['k' + i] = i; })()`],
  ['a Map growing without bound', `(() => { const m = new Map(); for (let i = 0; ; i += 1) m.set(i, { i }); })()`],
  ['a Set growing without bound', `(() => { const s = new Set(); for (let i = 0; ; i += 1) s.add(i); })()`],
  ['an array of objects growing without bound', `(() => { const a = []; for (;;) a.push({ a: 1, b: [1, 2, 3] }); })()`],
  ['JSON amplification', `(() => { let v = [1]; for (let i = 0; i < 40; i += 1) v = JSON.parse(JSON.stringify([v, v, v, v])); return v; })()`],
];

function checkBombs(report: ChildReport, allowed: readonly string[]) {
  const { records } = report;
  const done = records.find((record) => record.step === 'done');
  assert.ok(done, `the child reported its end: ${JSON.stringify(records)}`);
  for (const bomb of records.filter((record) => record.step === 'bomb')) {
    assert.ok(allowed.includes(String(bomb.kind)), JSON.stringify(bomb));
    assert.ok(Number(bomb.durationMs) < 5000, `the bomb ended in ${String(bomb.durationMs)} ms (deadline 2000 ms)`);
  }
  // Blocked means blocked for the bomb's deadline (2000 ms): a wait on the isolate's thread. A
  // few hundred ms is what a busy 2-core machine does to any process (seen: 294 ms under CI load).
  assert.ok(Number(done.worstLag) < 1000, `the child's event loop lagged ${String(done.worstLag)} ms at worst`);
  assert.ok(report.exitMs < 5000, `the child exited ${Math.round(report.exitMs)} ms after it was told to`);
  return { done, normal: records.find((record) => record.step === 'normal')! };
}

describe('memory bombs that can make V8 give up on an isolate, in a sandbox process', () => {
  for (const [name, expression] of BOMBS) {
    test(`${name}: contained within the deadline, the next script runs, and the server process exits normally`, async () => {
      const report = await runChild(expression, 'processes');
      const { done, normal } = checkBombs(report, ['memory', 'timeout', 'script_error', 'unavailable']);
      assert.equal(normal.value, 42, `the next script runs: ${JSON.stringify(report.records)}`);
      assert.equal(done.broken, null, 'the sandbox never fails closed');
      const lost = report.records.filter((record) => record.step === 'bomb' && record.kind === 'unavailable').length;
      assert.ok(Number(done.restarts) >= lost, 'every bomb that cost its process was a catastrophic error, and the process was replaced');
      assert.deepEqual({ code: report.code, signal: report.signal }, { code: 0, signal: null }, 'the server process exits by itself');
    });
  }
});

describe('a memory bomb that makes V8 give up on an isolate, in the server process (sandboxProcesses 0)', () => {
  const [name, expression] = BOMBS[0]!;
  test(`${name}: contained within the deadline, fails closed if V8 gives up, and the process still exits`, async () => {
    const report = await runChild(expression, 'in-process');
    const { done, normal } = checkBombs(report, ['memory', 'timeout', 'script_error', 'sandbox_error']);
    if (done.broken) {
      assert.equal(normal.kind, 'sandbox_error', 'after a catastrophic error every script is refused');
      assert.ok(Number(normal.durationMs) < 50, 'and refused at once');
      assert.equal(report.signal, 'SIGKILL', 'the process ended itself rather than hang in exit');
    } else {
      assert.equal(normal.value, 42, 'without one, the next script runs');
      // A catastrophic error that V8 raises only after the last outcome (the isolate being
      // disposed at close) still ends the process with SIGKILL, and the child printed it.
      const late = report.records.some((record) => record.step === 'fatal');
      assert.deepEqual({ code: report.code, signal: report.signal }, late ? { code: null, signal: 'SIGKILL' } : { code: 0, signal: null });
    }
  });
});
