/**
 * Runs one memory bomb in a sandbox of its own, in a process of its own, for
 * attacks-catastrophic.test.ts: such a bomb can make V8 give up on the isolate, after which this
 * process must still answer, refuse further scripts, and exit when told to.
 *
 * Usage: node catastrophic-child.ts '<expression>' <attempts> [processes|in-process]. Prints one
 * JSON object per line. With `processes` (Ferry's default) the isolates live in a sandbox process
 * of this one, which is replaced when V8 gives up on one of them.
 */
import { exitWhenIdle } from '../../src/exit.ts';
import { createLogger } from '../../src/log.ts';
import { createSandbox } from '../../src/sandbox/index.ts';

const [expression = '0', attempts = '3', mode = 'in-process'] = process.argv.slice(2);
const limits = { timeoutMs: 2000, cpuTimeMs: 1500, memoryMb: 16 };
const print = (record: object) => process.stdout.write(`${JSON.stringify(record)}\n`);
// V8 can give up on the lost isolate late, even after its outcome came back (while it is disposed
// at close, say): the moment is printed so the test can tell that from any other kill.
const sandbox = createSandbox({
  log: createLogger({ level: 'silent' }),
  poolSize: 1,
  onFatal: (message) => print({ step: 'fatal', message }),
  ...(mode === 'processes' ? { processes: { count: 1, maxRssMb: 1024, heapMb: 128 } } : {}),
});

let worstLag = 0;
let last = performance.now();
const sampler = setInterval(() => {
  const now = performance.now();
  worstLag = Math.max(worstLag, now - last - 5);
  last = now;
}, 5);

for (let attempt = 0; attempt < Number(attempts) && !sandbox.broken; attempt += 1) {
  const outcome = await sandbox.run({ name: 'main', source: `async function main() { return ${expression}; }`, args: [], limits });
  print({ step: 'bomb', ok: outcome.ok, kind: outcome.ok ? undefined : outcome.kind, durationMs: outcome.durationMs, broken: sandbox.broken });
}
// Time enough for a replacement sandbox process to start on a busy machine (seconds under load).
const normal = await sandbox.run({ name: 'main', source: 'async function main() { return 6 * 7; }', args: [], limits: { ...limits, timeoutMs: 15_000 } });
print({ step: 'normal', ok: normal.ok, value: normal.ok ? normal.value : undefined, kind: normal.ok ? undefined : normal.kind, durationMs: normal.durationMs });
clearInterval(sampler);
print({ step: 'done', broken: sandbox.broken ?? null, worstLag: Math.round(worstLag), restarts: sandbox.processStats()?.restarts.fatal ?? null });
// Ends as Ferry's shutdown does (src/exit.ts): process.exit() at once would race the isolates still
// tearing down, and end with SIGSEGV now and then.
await sandbox.close();
exitWhenIdle(0, 2000);
