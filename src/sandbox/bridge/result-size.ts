import type { Execution } from '../execution.ts';

/**
 * Counts what one driver call brings back (documents, rows), for drivers whose sockets Ferry does
 * not hold (mongodb's client pools its own; mssql's tedious reads a whole result): each value is
 * counted as it arrives, and past `maxQueryResultKb` the execution ends as `limit`. pg and mysql2
 * are counted on their sockets instead (driver-pools.ts), before the driver buffers anything.
 */
export function resultCounter(execution: Execution) {
  const budget = execution.limits.maxQueryResultKb * 1024;
  let left = budget;
  return <T>(value: T): T => {
    left -= sizeOf(value, left, 0);
    if (left < 0)
      throw execution.refuse(
        'limit',
        `A query's result is larger than the limit of ${execution.limits.maxQueryResultKb} KiB (connection.limits.maxQueryResultKb).`,
      );
    return value;
  };
}

/** Bytes `value` stands for (UTF-8 for strings, 8 per number); stops counting once past `left`. */
function sizeOf(value: unknown, left: number, depth: number): number {
  if (typeof value === 'string') return value.length > left ? value.length : Buffer.byteLength(value);
  if (value === null || typeof value !== 'object' || depth > 64) return 8;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Date) return 8;
  let total = 0;
  for (const item of Array.isArray(value) ? value : Object.entries(value)) {
    total += sizeOf(item, left - total, depth + 1);
    if (total > left) break;
  }
  return total;
}
