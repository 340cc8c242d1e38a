import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runNode } from '../helpers/process.ts';

const CHILD = join(import.meta.dirname, 'exit-child.ts');

/**
 * A garbage collection under way when Node tore its isolate down made isolated-vm abort a process
 * that had finished its work (exit 134, "Assertion `environment != nullptr' failed"): seen in CI
 * after a test file had passed. --stress-incremental-marking keeps a collection under way at all
 * times, which made it happen on every exit before the sandbox collected on 'exit'.
 */
test('a process that used the sandbox exits with 0 while V8 is always collecting incrementally, with or without --expose-gc', async () => {
  for (const flags of [[], ['--expose-gc']]) {
    const { code, signal, stdout, stderr, killed } = await runNode(['--no-node-snapshot', '--stress-incremental-marking', ...flags, CHILD], {
      killAfterMs: 60_000,
    });
    assert.ok(!killed, `the child did not end within 60 s: ${stdout}${stderr}`);
    assert.deepEqual(JSON.parse(stdout), { answered: 20, scriptGc: 'undefined' }, 'every execution answered, and no script had gc()');
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `the run with [${flags.join(' ')}] ended badly: ${stderr.slice(-500)}`);
  }
});
