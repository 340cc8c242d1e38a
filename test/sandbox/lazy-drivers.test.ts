import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { runNode } from '../helpers/process.ts';

/** A TCP port nobody listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

// Each sandbox process would otherwise carry SQL Server's, MongoDB's and MySQL's drivers whether
// or not a script uses them (mssql with tedious alone is about 34 MB of resident memory).
test('a sandbox loads the SQL Server, MongoDB and MySQL drivers only when a script uses them', async () => {
  const run = await runNode(['--no-node-snapshot', join(import.meta.dirname, 'lazy-drivers-child.ts'), String(await closedPort())], { killAfterMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(report.atStart, [], 'no driver is loaded by starting a sandbox');
  assert.deepEqual(report.afterPg, [], 'a PostgreSQL script loads none of the others');
  assert.equal(report.mssqlOutcome, 'unavailable', 'the SQL Server script ran and found nobody listening');
  assert.deepEqual(report.afterMssql, ['mssql', 'tedious'], 'reaching for SQL Server loaded its driver, and only it');
});
