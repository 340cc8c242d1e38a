import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Conflict } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SweepFailure, SweepQueries, SweepRow, SweepState } from '../store/queries/sweeps.ts';
import type { BulkImport } from './bulk-import.ts';
import type { Connection } from './connection.ts';
import { scriptContext, type ScriptRunner } from './scripts.ts';
import type { ConnectionSettings } from './settings.ts';
import { sweepView, type SweepStatus } from './sweep-status.ts';

export type { SweepStatus } from './sweep-status.ts';

export interface SweepOptions {
  /** Users per listUsers call (the templates cap it at 100). */
  pageSize?: number | undefined;
  /** A pause between pages, to spare a busy legacy database. */
  delayMs?: number | undefined;
  /** How long an instance's claim on the sweep lasts without renewal (it renews every page). */
  leaseSeconds?: number | undefined;
  /** Start again from page 1 even if a paused or failed sweep could resume. */
  restart?: boolean | undefined;
}

/** Script failures other than "unavailable" in a row after which the sweep stops as failed. */
const MAX_SCRIPT_FAILURES = 3;
const MAX_BACKOFF_MS = 60_000;
const BUSY_WAIT_MS = 200;

/**
 * The sweep: walks the connection's listUsers pages and imports every user not yet in Ferry
 * through the bulk import (same sub as a lazy migration, the legacy hash from `passwordHash` when
 * the script returns one, conflicts per record). Its cursor and counts live in the store, so a
 * crash or restart resumes where it was; a lease there lets one instance run it at a time. It
 * runs one script at a time, gives way while sign-ins wait for a script slot, and waits while the
 * circuit breaker is open instead of adding to a legacy database's trouble.
 */
export function createSweep(deps: {
  issuer: string;
  settings: ConnectionSettings;
  runner: ScriptRunner;
  bulkImport: BulkImport;
  queries: SweepQueries;
  log: Logger;
}) {
  const { queries, log } = deps;
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let loop: Promise<void> | undefined;
  let again = false;
  let stopping = false;
  let watcher: NodeJS.Timeout | undefined;
  const sleepers = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const sweepable = async (): Promise<Connection> => {
    const connection = await deps.settings.current();
    if (!connection.enabled || connection.mode !== 'LAZY_MIGRATION')
      throw new Conflict('A sweep needs the connection enabled in LAZY_MIGRATION mode (it imports from the legacy database).', 'connection_off');
    if ((await deps.settings.script('listUsers')).origin === 'default')
      throw new Conflict('A sweep reads the legacy users through the listUsers script: write it first.', 'no_list_users');
    return connection;
  };

  const validate = (value: unknown): string | undefined => {
    const page = value as { totalCount?: unknown; list?: unknown } | null;
    if (typeof page !== 'object' || page === null || !Array.isArray(page.list)) return 'listUsers must finish with { totalCount, list: [ … ] }.';
    const total = Number(page.totalCount);
    return Number.isFinite(total) && total >= 0 ? undefined : 'listUsers returned no usable totalCount.';
  };

  /** One page: read, import, count. False when the sweep should stop here. */
  const step = async (row: SweepRow, failures: { count: number }): Promise<boolean> => {
    const id = row.connection_id;
    const connection = await deps.settings.current();
    if (!connection.enabled || connection.mode !== 'LAZY_MIGRATION') {
      await queries.problem(id, owner, 'The connection was switched off or out of LAZY_MIGRATION mode.', 'failed');
      return false;
    }
    const guard = deps.runner.status(connection);
    if (guard.breaker === 'open') {
      // Wait out the open period, then go on: the breaker lets the next script through as its probe
      // (it only leaves the open state when asked), and that run tells whether the database is back.
      await queries.problem(id, owner, 'The legacy database is unavailable (the circuit breaker is open); the sweep waits for it.');
      await sleep(connection.breaker.openSeconds * 1000);
      if (stopping) return false;
    }
    // Sign-ins first: the sweep takes a script slot only when nobody is waiting for one.
    if (guard.waiting > 0 || guard.running >= connection.maxConcurrentScripts) {
      await sleep(BUSY_WAIT_MS);
      return true;
    }
    const page = row.next_page;
    const outcome = await deps.runner.run<{ totalCount: unknown; list: unknown[] }>(
      connection,
      'listUsers',
      [page, row.page_size, scriptContext(deps.issuer, {})],
      {
        validate,
      },
    );
    if (!outcome.ok) {
      failures.count += 1;
      const message = `listUsers(${page}, ${row.page_size}) failed (${outcome.kind}): ${outcome.message}`;
      const down = outcome.kind === 'unavailable' || outcome.kind === 'timeout';
      if (!down && failures.count >= MAX_SCRIPT_FAILURES) {
        await queries.problem(id, owner, message, 'failed');
        log.warn({ page, kind: outcome.kind }, 'migration sweep failed');
        return false;
      }
      await queries.problem(id, owner, message);
      await sleep(Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures.count));
      return true;
    }
    failures.count = 0;
    const { list } = outcome.value;
    const summary = await deps.bulkImport.run(list, { swept: true });
    const pageFailures: SweepFailure[] = summary.failed.map((failure) => ({
      page,
      ...(failure.id === undefined ? {} : { id: failure.id }),
      error: failure.error,
    }));
    const done = await queries.pageDone(id, owner, page, {
      total: Number(outcome.value.totalCount),
      seen: list.length,
      created: summary.created,
      skipped: summary.skipped,
      failed: summary.failedCount,
      failures: pageFailures,
      // A short page ends it, and so does reaching totalCount (no extra call for an empty page).
      last: list.length < row.page_size || page * row.page_size >= Number(outcome.value.totalCount),
    });
    if (!done) return false;
    if (done.state === 'done') log.info({ created: done.created, skipped: done.skipped, failed: done.failed, pages: page }, 'migration sweep finished');
    if (done.state !== 'running') return false;
    if (done.delay_ms > 0) await sleep(done.delay_ms);
    return true;
  };

  /** Runs the sweep here while this instance holds the lease. */
  const drive = async (connectionId: string): Promise<void> => {
    const failures = { count: 0 };
    try {
      while (!stopping) {
        const row = await queries.lease(connectionId, owner);
        if (!row || !(await step(row, failures))) break;
      }
    } catch (error) {
      log.warn({ err: error }, 'migration sweep stopped by an error; another instance or a restart resumes it');
    } finally {
      await queries.release(connectionId, owner).catch(() => {});
    }
  };

  /** Drives the sweep here; asked while a drive is ending (a new sweep started as the last one finished), drives again. */
  const kick = (connectionId: string): Promise<void> => {
    if (stopping) return Promise.resolve();
    if (loop) {
      again = true;
      return loop;
    }
    loop = (async () => {
      do {
        again = false;
        await drive(connectionId);
      } while (again && !stopping);
    })().finally(() => {
      loop = undefined;
    });
    return loop;
  };

  const status = async (connectionId?: string): Promise<SweepStatus> => {
    const row = await queries.get(connectionId ?? (await deps.settings.current()).id);
    return sweepView(row);
  };

  return {
    status,

    /** Starts (or resumes) the sweep and runs it in the background on this instance; answers at once. */
    async start(options: SweepOptions = {}): Promise<SweepStatus> {
      const connection = await sweepable();
      const existing = await queries.get(connection.id);
      const fresh = { pageSize: options.pageSize ?? 100, delayMs: options.delayMs ?? 0, leaseSeconds: options.leaseSeconds ?? 60 };
      if (existing?.state !== 'running') {
        const resumable = existing && (existing.state === 'paused' || existing.state === 'failed') && !options.restart;
        if (resumable) await queries.resume(connection.id);
        else await queries.startFresh(connection.id, fresh);
        log.info({ resumed: Boolean(resumable), by: owner }, 'migration sweep started');
      }
      void kick(connection.id);
      return status(connection.id);
    },

    /** Starts the sweep and runs it in this process until it is done, paused or failed (the CLI). */
    async run(options: SweepOptions, onProgress: (status: SweepStatus) => void): Promise<SweepStatus> {
      const started = await this.start(options);
      onProgress(started);
      let current = started;
      while (!stopping && current.state === 'running') {
        await Promise.race([loop ?? Promise.resolve(), sleep(1000)]);
        current = await status();
        onProgress(current);
        // Another instance may hold the lease: this one follows its progress, and takes over if it stops.
        if (current.state === 'running' && !loop && !current.runningOn) void kick((await deps.settings.current()).id);
        if (current.state === 'running' && !loop) await sleep(1000);
      }
      return current;
    },

    async pause(): Promise<SweepStatus> {
      const connection = await deps.settings.current();
      await queries.pause(connection.id);
      for (const wake of sleepers) wake();
      await loop;
      return status(connection.id);
    },

    /** Takes up, every `everyMs`, a running sweep that no live instance holds (after a crash or restart). */
    watch(everyMs = 15_000): void {
      const look = async () => {
        for (const connectionId of await queries.orphaned()) void kick(connectionId);
      };
      void look().catch(() => {});
      watcher = setInterval(() => void look().catch((error: unknown) => log.warn({ err: error }, 'migration sweep check failed')), everyMs);
      watcher.unref();
    },

    /** At shutdown: finishes the page in hand and lets go of the lease, so another instance resumes at once. */
    async stop(): Promise<void> {
      stopping = true;
      if (watcher) clearInterval(watcher);
      for (const wake of sleepers) wake();
      await loop;
    },
  };
}

export type Sweep = ReturnType<typeof createSweep>;
export type { SweepState };
