import type { ExecutionLog } from '../../connection/execution-log.ts';
import type { ExecutionFilter, ExecutionQueries, ExecutionRow } from '../../store/queries/executions.ts';

export interface ExecutionItem {
  id: number;
  script: string;
  outcome: string;
  durationMs: number;
  message: string | null;
  logs: unknown[];
  createdAt: string;
}

/** The log history, newest first, paged by id: `next` is the `before` of the following page. */
export function createExecutionHistory(deps: { log: ExecutionLog; queries: ExecutionQueries }) {
  return {
    async list(filter: ExecutionFilter): Promise<{ items: ExecutionItem[]; next: number | null }> {
      // Executions are written in batches; what just ran should be visible now.
      await deps.log.flush();
      const rows = await deps.queries.list(filter);
      const items = rows.map(toItem);
      return { items, next: rows.length === filter.limit && rows.length > 0 ? rows[rows.length - 1]!.id : null };
    },
  };
}

export type ExecutionHistory = ReturnType<typeof createExecutionHistory>;

function toItem(row: ExecutionRow): ExecutionItem {
  return {
    id: row.id,
    script: row.script,
    outcome: row.outcome,
    durationMs: Math.round(row.duration_ms * 10) / 10,
    message: row.message,
    logs: row.logs,
    createdAt: row.created_at.toISOString(),
  };
}
