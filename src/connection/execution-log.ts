import type { Logger } from '../log.ts';
import { capMessage, type LogLine, type Outcome } from '../sandbox/index.ts';
import { createBatchWriter } from '../store/batch-writer.ts';
import type { ExecutionQueries, ExecutionRecord } from '../store/queries/executions.ts';

/**
 * Each record is bounded whatever the execution produced (its console limit can be raised to
 * 4 MiB, and a record may come from elsewhere than the sandbox): at most this many console
 * lines and characters of console text. The failure message is cut by capMessage().
 */
const MAX_LOG_LINES = 200;
const MAX_LOG_CHARS = 64 * 1024;

export interface ExecutionLogOptions {
  /** Rows kept in the database at most. */
  maxRows: number;
  /** Rows older than this many days are deleted. */
  maxAgeDays: number;
}

/**
 * The script execution log. Records are buffered and written in batches off the request path (a
 * crash loses at most 250 ms of them: store/batch-writer.ts); the table is pruned to its row and age bounds.
 */
export function createExecutionLog(queries: ExecutionQueries, log: Logger, options: ExecutionLogOptions = { maxRows: 10_000, maxAgeDays: 7 }) {
  const writer = createBatchWriter<ExecutionRecord>({
    write: (batch) => queries.insertMany(batch),
    log,
    what: 'script executions',
    fullMessage: 'script execution log is full; records dropped',
  });

  return {
    record(connectionId: string, script: string, outcome: Outcome): void {
      writer.add({
        connectionId,
        script,
        outcome: outcome.ok ? 'ok' : outcome.kind,
        durationMs: outcome.durationMs,
        message: outcome.ok ? undefined : capMessage(outcome.message),
        logs: trimLogs(outcome.logs),
      });
    },
    flush: writer.flush,
    prune: () => queries.prune(options.maxRows, options.maxAgeDays),
    close: writer.close,
  };
}

export type ExecutionLog = ReturnType<typeof createExecutionLog>;

/** The first MAX_LOG_LINES lines and MAX_LOG_CHARS characters, then a note of what was left out. */
function trimLogs(logs: readonly LogLine[]): LogLine[] {
  const kept: LogLine[] = [];
  let room = MAX_LOG_CHARS;
  let cutLine = false;
  for (const line of logs) {
    if (kept.length === MAX_LOG_LINES || room === 0) break;
    cutLine = line.message.length > room;
    const message = cutLine ? line.message.slice(0, room) : line.message;
    room -= message.length;
    kept.push({ ...line, message });
  }
  const left = logs.length - kept.length;
  if (left === 0 && !cutLine) return kept;
  const what = left > 0 ? `${left} more lines` : 'the rest of the last line';
  kept.push({
    level: 'warn',
    message: `[${what} not kept: the log keeps ${MAX_LOG_LINES} lines and ${MAX_LOG_CHARS} characters per execution]`,
    at: logs[logs.length - 1]!.at,
  });
  return kept;
}
