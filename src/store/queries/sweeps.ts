import type { Queryable } from '../db.ts';

export type SweepState = 'running' | 'paused' | 'done' | 'failed';

export interface SweepFailure {
  page: number;
  id?: string | undefined;
  error: string;
}

export interface SweepRow {
  connection_id: string;
  state: SweepState;
  next_page: number;
  page_size: number;
  delay_ms: number;
  lease_seconds: number;
  total: number | null;
  seen: number;
  created: number;
  skipped: number;
  failed: number;
  failures: SweepFailure[];
  last_error: string | null;
  lease_owner: string | null;
  lease_until: Date | null;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** The last failures kept on the row; the counter counts them all. */
export const KEPT_FAILURES = 100;

/** SQL for the sweep's progress and its lease (table migration_sweeps). */
export function createSweepQueries(db: Queryable) {
  return {
    async get(connectionId: string): Promise<SweepRow | undefined> {
      const { rows } = await db.query<SweepRow>('select * from migration_sweeps where connection_id = $1', [connectionId]);
      return rows[0];
    },

    /** A new sweep from page 1, replacing any that is not running; undefined while one runs. */
    async startFresh(connectionId: string, options: { pageSize: number; delayMs: number; leaseSeconds: number }): Promise<SweepRow | undefined> {
      const { rows } = await db.query<SweepRow>(
        `insert into migration_sweeps (connection_id, state, page_size, delay_ms, lease_seconds)
         values ($1, 'running', $2, $3, $4)
         on conflict (connection_id) do update set
           state = 'running', next_page = 1, page_size = $2, delay_ms = $3, lease_seconds = $4, total = null,
           seen = 0, created = 0, skipped = 0, failed = 0, failures = '[]'::jsonb, last_error = null,
           lease_owner = null, lease_until = null, started_at = now(), updated_at = now(), finished_at = null
         where migration_sweeps.state <> 'running' returning *`,
        [connectionId, options.pageSize, options.delayMs, options.leaseSeconds],
      );
      return rows[0];
    },

    /** A paused or failed sweep goes on from its cursor. */
    async resume(connectionId: string): Promise<SweepRow | undefined> {
      const { rows } = await db.query<SweepRow>(
        `update migration_sweeps set state = 'running', last_error = null, updated_at = now()
         where connection_id = $1 and state in ('paused', 'failed') returning *`,
        [connectionId],
      );
      return rows[0];
    },

    /** Takes or renews the lease of a running sweep; undefined when another live owner holds it or it is not running. */
    async lease(connectionId: string, owner: string): Promise<SweepRow | undefined> {
      const { rows } = await db.query<SweepRow>(
        `update migration_sweeps set lease_owner = $2, lease_until = now() + make_interval(secs => lease_seconds)
         where connection_id = $1 and state = 'running'
           and (lease_owner is null or lease_owner = $2 or lease_until < now()) returning *`,
        [connectionId, owner],
      );
      return rows[0];
    },

    async release(connectionId: string, owner: string): Promise<void> {
      await db.query('update migration_sweeps set lease_owner = null, lease_until = null where connection_id = $1 and lease_owner = $2', [connectionId, owner]);
    },

    /**
     * A page's outcome, counted once: only by the lease holder, and only if the cursor is still at
     * that page (a holder that lost its lease mid-page cannot move it twice).
     */
    async pageDone(
      connectionId: string,
      owner: string,
      page: number,
      outcome: { total: number; seen: number; created: number; skipped: number; failed: number; failures: SweepFailure[]; last: boolean },
    ): Promise<SweepRow | undefined> {
      const { rows } = await db.query<SweepRow>(
        `update migration_sweeps set
           next_page = next_page + 1, total = $4, seen = seen + $5, created = created + $6, skipped = skipped + $7,
           failed = failed + $8,
           failures = (select coalesce(jsonb_agg(f order by n), '[]'::jsonb) from (
             select f, n from jsonb_array_elements(failures || $9::jsonb) with ordinality as t(f, n) order by n desc limit ${KEPT_FAILURES}
           ) kept),
           last_error = null, updated_at = now(),
           state = case when $10::boolean then 'done' else state end,
           finished_at = case when $10::boolean then now() end
         where connection_id = $1 and lease_owner = $2 and next_page = $3 and state = 'running' returning *`,
        [
          connectionId,
          owner,
          page,
          outcome.total,
          outcome.seen,
          outcome.created,
          outcome.skipped,
          outcome.failed,
          JSON.stringify(outcome.failures),
          outcome.last,
        ],
      );
      return rows[0];
    },

    /** Why the current page did not go through (the sweep keeps trying, or fails with `state`). */
    async problem(connectionId: string, owner: string, message: string, state: 'running' | 'failed' = 'running'): Promise<void> {
      await db.query(
        `update migration_sweeps set last_error = $3, state = $4, updated_at = now(),
           finished_at = case when $4 = 'failed' then now() end
         where connection_id = $1 and lease_owner = $2 and state = 'running'`,
        [connectionId, owner, message, state],
      );
    },

    async pause(connectionId: string): Promise<SweepRow | undefined> {
      const { rows } = await db.query<SweepRow>(
        `update migration_sweeps set state = 'paused', updated_at = now() where connection_id = $1 and state = 'running' returning *`,
        [connectionId],
      );
      return rows[0];
    },

    /** Sweeps that no live instance holds (its holder crashed or stopped): taken up by the next watcher. */
    async orphaned(): Promise<string[]> {
      const { rows } = await db.query<{ connection_id: string }>(
        `select connection_id from migration_sweeps where state = 'running' and (lease_owner is null or lease_until < now())`,
      );
      return rows.map((row) => row.connection_id);
    },
  };
}

export type SweepQueries = ReturnType<typeof createSweepQueries>;
