import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectionSchema } from '../../src/config/schema.ts';
import { createExecutionLog } from '../../src/connection/execution-log.ts';
import { createScriptRunner } from '../../src/connection/scripts.ts';
import type { ConnectionSettings } from '../../src/connection/settings.ts';
import { createLogger } from '../../src/log.ts';
import { createSandbox } from '../../src/sandbox/index.ts';
import { openDatabase } from '../../src/store/index.ts';
import { createExecutionQueries } from '../../src/store/queries/executions.ts';

/** A fresh embedded store for one test; `use` gets it, and it is closed and removed afterwards. */
async function withDatabase(use: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-execlog-'));
  const db = await openDatabase({ dataDir });
  try {
    await use(db);
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('script execution log', () => {
  it('writes records that arrive while a batch is being written, at flush and at close', async () => {
    await withDatabase(async (db) => {
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
      const { rows } = await db.query<{ script: string; n: number }>(
        'select script, count(*)::int as n from script_executions group by script order by script',
      );
      assert.deepEqual(rows, [
        { script: 'getUser', n: 2 },
        { script: 'login', n: 2 },
      ]);
    });
  });

  it('keeps at most 2,000 characters of a failure message and 64 KiB of console text per record', async () => {
    await withDatabase(async (db) => {
      const executions = createExecutionLog(createExecutionQueries(db), createLogger({ level: 'silent' }));
      // As a script throwing new Error('x'.repeat(3e7)) with a raised console limit would produce.
      const huge = {
        ok: false as const,
        kind: 'script_error' as const,
        message: 'x'.repeat(3e7),
        logs: [{ level: 'log' as const, message: 'y'.repeat(4 * 1024 * 1024), at: 5 }],
        durationMs: 1,
      };
      const many = {
        ok: false as const,
        kind: 'script_error' as const,
        message: 'short',
        logs: Array.from({ length: 500 }, (_, i) => ({ level: 'log' as const, message: `line ${i}`, at: i })),
        durationMs: 1,
      };
      executions.record('default', 'huge', huge);
      executions.record('default', 'many', many);
      await executions.close();
      const { rows } = await db.query<{ script: string; message: string; logs: { level: string; message: string; at: number }[]; bytes: number }>(
        'select script, message, logs, pg_column_size(message) + pg_column_size(logs) as bytes from script_executions order by id',
      );
      const [big, lines] = rows;
      assert.equal(big!.message.length, 2001);
      assert.equal(big!.message, `${'x'.repeat(2000)}…`);
      assert.equal(big!.logs.length, 2);
      assert.equal(big!.logs[0]!.message.length, 64 * 1024);
      assert.deepEqual(big!.logs[1], {
        level: 'warn',
        message: '[the rest of the last line not kept: the log keeps 200 lines and 65536 characters per execution]',
        at: 5,
      });
      assert.ok(big!.bytes < 80 * 1024, `the row holds ${big!.bytes} bytes`);
      assert.equal(lines!.message, 'short');
      assert.equal(lines!.logs.length, 201);
      assert.deepEqual(
        lines!.logs.slice(199).map((line) => line.message),
        ['line 199', '[300 more lines not kept: the log keeps 200 lines and 65536 characters per execution]'],
      );
    });
  });

  it('prune() deletes records older than the age limit, then the oldest beyond maxRows', async () => {
    await withDatabase(async (db) => {
      const executions = createExecutionLog(createExecutionQueries(db), createLogger({ level: 'silent' }), { maxRows: 3, maxAgeDays: 7 });
      const outcome = { ok: true as const, value: null, logs: [], durationMs: 1 };
      for (let n = 1; n <= 6; n += 1) executions.record('default', `script${n}`, outcome);
      await executions.close();
      await db.query("update script_executions set created_at = now() - interval '8 days' where script in ('script2', 'script5')");
      await db.query("update script_executions set created_at = now() - interval '6 days' where script = 'script6'");
      await db.query(
        "insert into migration_failures (kind, detail, created_at) values ('old', 'x', now() - interval '29 days'), ('recent', 'y', now() - interval '27 days')",
      );

      assert.equal(await executions.prune(), 3, 'two too old, then one beyond the newest three');
      const { rows } = await db.query<{ script: string }>('select script from script_executions order by id');
      assert.deepEqual(
        rows.map((row) => row.script),
        ['script3', 'script4', 'script6'],
      );
      const failures = await db.query<{ kind: string }>('select kind from migration_failures order by kind');
      assert.deepEqual(
        failures.rows.map((row) => row.kind),
        ['recent'],
        'migration failures are kept four times as long',
      );
      assert.equal(await executions.prune(), 0, 'a second clean-up finds nothing');
    });
  });

  it("shows neither the password nor the connection's secrets that a saved script printed or threw", async () => {
    await withDatabase(async (db) => {
      const log = createLogger({ level: 'silent' });
      const executions = createExecutionLog(createExecutionQueries(db), log);
      const sandbox = createSandbox({ log, poolSize: 1 });
      const source = `async function login(query, password) {
        console.log('connecting with', env.DB_PASSWORD, 'api key', env.PARTNER_API_KEY, 'to', env.DB_CONNECTION_URI);
        console.log('checking', query.email, password);
        throw new Error('login failed for ' + env.DB_CONNECTION_URI + ' as ' + decodeURIComponent('p%40ss-in-uri'));
      }`;
      const settings = { script: async () => ({ source, origin: 'stored' }) } as unknown as ConnectionSettings;
      const runner = createScriptRunner({ sandbox, settings, executions });
      const connection = {
        ...connectionSchema.parse({
          enabled: true,
          env: {
            DB_PASSWORD: 'db-password-1',
            PARTNER_API_KEY: 'partner-key-2',
            DB_CONNECTION_URI: 'postgres://app:p%40ss-in-uri@legacy:5432/app',
            DB_DATABASE: 'app',
          },
        }),
        id: 'default',
      };
      try {
        const outcome = await runner.run(connection, 'login', [{ email: 'ada@example.com' }, 'user-password-3'], { secrets: ['user-password-3'] });
        assert.equal(outcome.ok, false);
        await executions.flush();
        const { rows } = await db.query<{ message: string; logs: { message: string }[] }>('select message, logs from script_executions');
        const text = JSON.stringify(rows);
        for (const secret of ['db-password-1', 'partner-key-2', 'p%40ss-in-uri', 'p@ss-in-uri', 'user-password-3'])
          assert.ok(!text.includes(secret), `${secret} is not in the log: ${text}`);
        assert.equal(rows[0]!.logs[0]!.message, 'connecting with ******** api key ******** to postgres://app:********@legacy:5432/app');
        assert.equal(rows[0]!.logs[1]!.message, 'checking ada@example.com ********', 'what is not secret stays readable');
        assert.match(rows[0]!.message, /^login failed for postgres:\/\/app:\*+@legacy:5432\/app as \*+$/);
      } finally {
        await executions.close();
        await sandbox.close();
      }
    });
  });
});
