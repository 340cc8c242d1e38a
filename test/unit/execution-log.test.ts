import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createExecutionLog } from '../../src/federation/execution-log.ts';
import { createLogger } from '../../src/log.ts';
import { openDatabase } from '../../src/store/index.ts';
import { createExecutionQueries } from '../../src/store/queries/executions.ts';

describe('script execution log', () => {
  it('writes records that arrive while a batch is being written, at flush and at close', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-execlog-'));
    const db = await openDatabase({ dataDir });
    try {
      const executions = createExecutionLog(createExecutionQueries(db), createLogger({ level: 'silent' }));
      const outcome = { ok: true as const, value: null, logs: [], durationMs: 1 };
      executions.record('default', 'login', outcome);
      const writing = executions.flush();
      executions.record('default', 'getUser', outcome); // buffered while the first batch is written
      await writing;
      executions.record('default', 'login', outcome);
      const closing = executions.flush();
      executions.record('default', 'getUser', outcome);
      await executions.close();
      await closing;
      const { rows } = await db.query<{ script: string; n: number }>('select script, count(*)::int as n from script_executions group by script order by script');
      assert.deepEqual(rows, [{ script: 'getUser', n: 2 }, { script: 'login', n: 2 }]);
    } finally {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
