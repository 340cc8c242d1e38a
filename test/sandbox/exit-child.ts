/**
 * Uses a sandbox, closes it and ends the way every Ferry process and test file ends: naturally,
 * with isolated-vm's objects from the executions left for the garbage collector. For
 * exit.test.ts, which runs it with V8 collecting incrementally all the time.
 */
import { createLogger } from '../../src/log.ts';
import { createSandbox } from '../../src/sandbox/index.ts';

const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 2 });
const source = `async function main(n) { await new Promise((resolve) => setTimeout(resolve, 1)); return { n, text: 'x'.repeat(1000) }; }`;
let answered = 0;
for (let round = 0; round < 5; round += 1) {
  const outcomes = await Promise.all([0, 1, 2, 3].map((n) => sandbox.run({ name: 'main', source, args: [n] })));
  answered += outcomes.filter((outcome) => outcome.ok).length;
}
// Node may run with --expose-gc (exit.test.ts does): scripts still have no gc().
const probe = await sandbox.run({ name: 'main', source: 'async function main() { return typeof gc; }', args: [] });
await sandbox.close();
process.stdout.write(`${JSON.stringify({ answered, scriptGc: probe.ok ? probe.value : probe.kind })}\n`);
