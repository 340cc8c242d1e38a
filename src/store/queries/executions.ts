import type { Queryable } from '../db.ts';

export interface ExecutionRecord {
  connectionId: string;
  script: string;
  outcome: string;
  durationMs: number;
  message?: string | undefined;
  logs: unknown[];
}

export interface ExecutionRow {
  id: number;
  connection_id: string;
  script: string;
  outcome: string;
  duration_ms: number;
  message: string | null;
  logs: unknown[];
  created_at: Date;
}

export interface ExecutionFilter {
  script?: string | undefined;
  outcome?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Rows with an id below this one (for paging backwards through time). */
  before?: number | undefined;
  limit: number;
}

/** SQL for the script execution log and the migration failure log. */
export function createExecutionQueries(db: Queryable) {
  return {
    async insertMany(records: readonly ExecutionRecord[]): Promise<void> {
      if (records.length === 0) return;
      const params: unknown[] = [];
      const rows = records.map((record) => {
        params.push(record.connectionId, record.script, record.outcome, record.durationMs, record.message ?? null, JSON.stringify(record.logs));
        const n = params.length;
        return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n}::jsonb)`;
      });
      await db.query(`insert into script_executions (connection_id, script, outcome, duration_ms, message, logs) values ${rows.join(', ')}`, params);
    },

    async list(filter: ExecutionFilter): Promise<ExecutionRow[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.script) add('script = ?', filter.script);
      if (filter.outcome) add('outcome = ?', filter.outcome);
      if (filter.since) add('created_at >= ?', filter.since);
      if (filter.until) add('created_at < ?', filter.until);
      if (filter.before) add('id < ?', filter.before);
      params.push(filter.limit);
      const { rows } = await db.query<ExecutionRow>(
        `select id::int as id, connection_id, script, outcome, duration_ms, message, logs, created_at from script_executions
         ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit $${params.length}`,
        params,
      );
      return rows;
    },

    /** Keeps at most `maxRows` rows and none older than `maxAgeDays`. */
    async prune(maxRows: number, maxAgeDays: number): Promise<number> {
      const old = await db.query('delete from script_executions where created_at < now() - make_interval(days => $1::int)', [maxAgeDays]);
      const excess = await db.query(`delete from script_executions where id <= (select id from script_executions order by id desc offset $1 limit 1)`, [
        maxRows,
      ]);
      await db.query('delete from migration_failures where created_at < now() - make_interval(days => $1::int)', [maxAgeDays * 4]);
      return old.rowCount + excess.rowCount;
    },

    async recordMigrationFailure(kind: string, legacyId: string | undefined, detail: string): Promise<void> {
      await db.query('insert into migration_failures (kind, legacy_id, detail) values ($1, $2, $3)', [kind, legacyId ?? null, detail]);
    },

    async migrationFailuresByKind(): Promise<Record<string, number>> {
      const { rows } = await db.query<{ kind: string; n: number }>('select kind, count(*)::int as n from migration_failures group by kind');
      return Object.fromEntries(rows.map((row) => [row.kind, row.n]));
    },
  };
}

export type ExecutionQueries = ReturnType<typeof createExecutionQueries>;
