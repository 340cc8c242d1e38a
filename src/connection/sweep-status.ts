import type { SweepFailure, SweepRow, SweepState } from '../store/queries/sweeps.ts';

/** A sweep's progress as the admin API, the console and the CLI show it. */
export interface SweepStatus {
  /** `idle`: no sweep was ever started. */
  state: SweepState | 'idle';
  /** The listUsers page the sweep reads next (1-based). */
  nextPage: number;
  pageSize: number;
  /** The legacy database's totalCount at the last page read. */
  total: number | null;
  /** Users listed so far, and what became of them. */
  seen: number;
  created: number;
  skipped: number;
  failed: number;
  /** The last failures (at most 100): the legacy id and why it was not imported. */
  failures: SweepFailure[];
  /** Why the last page did not go through, when it did not (the sweep retries). */
  lastError: string | null;
  /** The instance that holds the lease now, if any. */
  runningOn: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
}

export function sweepView(row: SweepRow | undefined): SweepStatus {
  if (!row) {
    return {
      state: 'idle',
      nextPage: 1,
      pageSize: 0,
      total: null,
      seen: 0,
      created: 0,
      skipped: 0,
      failed: 0,
      failures: [],
      lastError: null,
      runningOn: null,
      startedAt: null,
      updatedAt: null,
      finishedAt: null,
    };
  }
  const leased = row.lease_owner !== null && row.lease_until !== null && new Date(row.lease_until).getTime() > Date.now();
  const iso = (value: Date | null) => (value === null ? null : new Date(value).toISOString());
  return {
    state: row.state,
    nextPage: row.next_page,
    pageSize: row.page_size,
    total: row.total,
    seen: row.seen,
    created: row.created,
    skipped: row.skipped,
    failed: row.failed,
    failures: row.failures,
    lastError: row.last_error,
    runningOn: leased ? row.lease_owner : null,
    startedAt: iso(row.started_at),
    updatedAt: iso(row.updated_at),
    finishedAt: iso(row.finished_at),
  };
}
