/**
 * The server's side of the sandbox processes: the same `run`, `stats`, `close` as the in-process
 * sandbox, with every script executed in one of a few child processes (child.ts, kept by
 * pool.ts). See docs/sandbox-processes.md.
 */
import type { Logger } from '../../log.ts';
import { checkedLimits } from '../limits.ts';
import { capMessage, type Outcome } from '../outcome.ts';
import type { RunRequest } from '../index.ts';
import type { ProcessOptions } from './options.ts';
import { createProcessPool } from './pool.ts';
import { cloneableOnly, dataOnly, type ToChild } from './protocol.ts';

export { sandboxProcessOptions, type ProcessOptions } from './options.ts';

/** How long an execution may outlast its deadline before it ends as `unavailable` anyway. */
const LATE_MS = 2000;

export function createSupervisor(options: { log: Logger; ferryPort?: () => number | undefined; processes: ProcessOptions; [key: string]: unknown }) {
  const { log, processes } = options;
  // Everything of SandboxOptions that is data goes to the processes as it is (pool sizes, and
  // whatever is added later); functions stay here.
  const pool = createProcessPool({ log, processes, childOptions: cloneableOnly(options, ['processes', 'log']) });
  const { unavailable } = pool;
  let nextId = 1;

  async function run<T = unknown>(request: RunRequest): Promise<Outcome<T>> {
    const startedAt = performance.now();
    // Checked here, in the server, so that the processes need no schema library (in-process.ts).
    const { limits, egress } = checkedLimits(request);
    if (pool.closed) return { ok: false, kind: 'sandbox_error', message: 'The sandbox is closed.', logs: [], durationMs: 0 };
    pool.start();
    const deadline = request.deadline ?? Date.now() + limits.timeoutMs;
    const waitedFrom = Date.now();
    const firstStart = !pool.everReady;
    const worker = await pool.pick(deadline);
    // A wait for the first processes to start moves the deadline with it (see pick).
    const moved = firstStart ? Date.now() - waitedFrom : 0;
    if (!worker) {
      const message = pool.closed
        ? 'The sandbox is closed.'
        : `No sandbox process was ready in time${pool.lastFailure ? ` (the last one failed: ${pool.lastFailure})` : ''}.`;
      return {
        ok: false,
        kind: pool.closed ? 'sandbox_error' : 'timeout',
        message,
        logs: [],
        durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
      };
    }
    const id = nextId++;
    const outcome = await new Promise<Outcome>((resolve) => {
      const late = setTimeout(
        () => {
          worker.inFlight.delete(id);
          resolve(unavailable('The sandbox process did not return the outcome in time.', startedAt));
        },
        Math.max(0, deadline + moved - Date.now()) + LATE_MS,
      );
      worker.inFlight.set(id, { resolve, started: startedAt, late });
      const data = dataOnly(request);
      // `poolSize` bounds the connections an instance keeps to a legacy database; each process
      // keeps pools of its own, so each gets its share.
      data.limits = { ...limits, poolSize: Math.max(1, Math.ceil(limits.poolSize / processes.count)) };
      data.egress = egress;
      if (moved > 0 && request.deadline !== undefined) data.deadline = request.deadline + moved;
      const message: ToChild = { type: 'run', id, request: data, ferryPort: options.ferryPort?.() };
      worker.child.send(message, undefined, {}, (error) => {
        if (error && worker.inFlight.delete(id)) {
          clearTimeout(late);
          resolve(unavailable(`The script could not be sent to a sandbox process: ${error.message}`, startedAt));
        }
      });
    });
    // The caller's check is a function, so it runs here, on the value that came back.
    if (outcome.ok && request.validate) {
      const problem = request.validate(outcome.value);
      if (problem) return { ok: false, kind: 'invalid_result', message: capMessage(problem), logs: outcome.logs, durationMs: outcome.durationMs };
    }
    return outcome as Outcome<T>;
  }

  return {
    run,
    /** Starts the processes now rather than with the first script. */
    start: pool.start,
    /** Set while sandbox processes keep failing to start (then no script can run). */
    get broken() {
      return pool.broken;
    },
    stats: pool.stats,
    connectionStats: pool.connectionStats,
    processStats: pool.processStats,
    close: pool.close,
  };
}
