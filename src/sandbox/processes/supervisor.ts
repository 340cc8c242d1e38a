/**
 * The server's side of the sandbox processes: the same `run`, `stats`, `close` as the in-process
 * sandbox, with every script executed in one of a few child processes (child.ts). A process that
 * crashes, loses control of an isolate, grows past its memory bound or stops answering is
 * replaced; its executions in flight end as `unavailable` at once. See docs/sandbox-processes.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../log.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { capMessage, type Outcome } from '../outcome.ts';
import type { RunRequest } from '../index.ts';
import { HEARTBEAT_MS, cloneableOnly, dataOnly, type FromChild, type ToChild } from './protocol.ts';

const CHILD = new URL('./child.ts', import.meta.url);

export interface ProcessOptions {
  /** Sandbox processes kept running. */
  count: number;
  /** A process whose resident memory passes this is replaced. */
  maxRssMb: number;
  /** The V8 heap of each process's own Node isolate (--max-old-space-size); isolates' heaps are apart. */
  heapMb: number;
  /**
   * A ready process silent this long (no heartbeat, every 200 ms) is replaced. Default 5000: well
   * above the pauses a busy 2-core machine gives a healthy process (up to about a second seen).
   */
  unresponsiveMs?: number;
}

/**
 * The sandbox options for the configuration's sandbox keys: `poolSize` isolates in all, shared out
 * among the processes (each keeps at least 2, so one slow script does not hold a process's only one).
 */
export function sandboxProcessOptions(
  config: { sandboxProcesses: number; sandboxProcessMaxRssMb: number; sandboxProcessHeapMb: number },
  poolSize: number,
): { poolSize: number; processes?: ProcessOptions } {
  const count = config.sandboxProcesses;
  if (count === 0) return { poolSize };
  return { poolSize: Math.max(2, Math.ceil(poolSize / count)), processes: { count, maxRssMb: config.sandboxProcessMaxRssMb, heapMb: config.sandboxProcessHeapMb } };
}

type Reason = 'exit' | 'fatal' | 'rss' | 'unresponsive';

interface Pending {
  resolve: (outcome: Outcome) => void;
  started: number;
  late: NodeJS.Timeout;
}

interface Worker {
  child: ChildProcess;
  ready: boolean;
  retired: boolean;
  inFlight: Map<number, Pending>;
  lastBeat: number;
  stats: Record<string, Record<string, number>>;
  connections: Record<string, Record<string, number>>;
}

/** After this many processes in a row ended before they were ready, the sandbox reports itself broken. */
const FAILED_STARTS_BROKEN = 3;
/** How long an execution may outlast its deadline before it ends as `unavailable` anyway. */
const LATE_MS = 2000;
/** How long a new process may take to become ready. */
const START_MS = 30_000;

export function createSupervisor(options: { log: Logger; ferryPort?: () => number | undefined; processes: ProcessOptions; [key: string]: unknown }) {
  const { log, processes } = options;
  const unresponsiveMs = processes.unresponsiveMs ?? 5000;
  // Everything of SandboxOptions that is data goes to the processes as it is (pool sizes, and
  // whatever is added later); functions stay here.
  const childOptions = cloneableOnly(options, ['processes', 'log']);
  const workers = new Set<Worker>();
  const readyWaiters: (() => void)[] = [];
  const restarts: Record<Reason, number> = { exit: 0, fatal: 0, rss: 0, unresponsive: 0 };
  let started = false;
  let startedAt = 0;
  let everReady = false;
  let closed = false;
  let failedStarts = 0;
  let lastFailure = '';
  let nextId = 1;

  const forkChild = () =>
    fork(CHILD, [], {
      execArgv: ['--no-node-snapshot', `--max-old-space-size=${processes.heapMb}`, '--max-semi-space-size=4'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });

  const unavailable = (message: string, since: number): Outcome => ({ ok: false, kind: 'unavailable', message, logs: [], durationMs: Math.round((performance.now() - since) * 100) / 100 });

  function spawnWorker(): void {
    let child: ChildProcess;
    try {
      child = forkChild();
    } catch (error) {
      // fork itself failed (out of memory or processes): try again as after a failed start.
      failedStarts += 1;
      lastFailure = `a sandbox process could not be started: ${(error as Error).message}`;
      log.error({ err: error }, lastFailure);
      setTimeout(() => {
        if (!closed && workers.size < processes.count) spawnWorker();
      }, Math.min(5000, 250 * 2 ** Math.min(failedStarts, 5))).unref();
      return;
    }
    const worker: Worker = { child, ready: false, retired: false, inFlight: new Map(), lastBeat: Date.now(), stats: {}, connections: {} };
    workers.add(worker);
    child.on('message', (message: FromChild) => onMessage(worker, message));
    child.on('error', (error) => log.warn({ err: error }, 'sandbox process error'));
    child.on('exit', (code, signal) => retire(worker, 'exit', `the sandbox process ended (${signal ?? `exit code ${code}`})`));
    const init: ToChild = { type: 'init', options: childOptions, logLevel: log.level };
    child.send(init, undefined, {}, () => {});
  }

  function onMessage(worker: Worker, message: FromChild): void {
    worker.lastBeat = Date.now();
    switch (message.type) {
      case 'ready':
        worker.ready = true;
        everReady = true;
        failedStarts = 0;
        for (const wake of readyWaiters.splice(0)) wake();
        break;
      case 'outcome': {
        const pending = worker.inFlight.get(message.id);
        if (!pending) return;
        worker.inFlight.delete(message.id);
        clearTimeout(pending.late);
        pending.resolve(message.outcome);
        break;
      }
      case 'beat':
        worker.stats = message.stats;
        worker.connections = message.connections;
        if (message.rssMb > processes.maxRssMb) retire(worker, 'rss', `the sandbox process used ${message.rssMb} MiB of memory, over its bound of ${processes.maxRssMb} MiB`);
        break;
      case 'fatal':
        retire(worker, 'fatal', `isolated-vm lost control of an isolate: ${message.message}`);
        break;
    }
  }

  /** Takes a process out of service: its executions end as unavailable now, and a new one starts. */
  function retire(worker: Worker, reason: Reason, why: string): void {
    if (worker.retired) return;
    worker.retired = true;
    workers.delete(worker);
    for (const pending of worker.inFlight.values()) {
      clearTimeout(pending.late);
      pending.resolve(unavailable(`The script could not finish: ${why}.`, pending.started));
    }
    worker.inFlight.clear();
    // A process that lost an isolate cannot exit by itself (isolated-vm parks the thread), a stopped
    // one cannot read a request to close: SIGKILL ends either, and it frees the memory at once.
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    if (closed) return;
    restarts[reason] += 1;
    if (!worker.ready) {
      failedStarts += 1;
      lastFailure = why;
    }
    log.error({ reason, pid: worker.child.pid }, `sandbox process replaced: ${why}`);
    // A process that never became ready is started again after a pause, so a broken installation
    // does not spin; one that served is replaced at once.
    const delay = worker.ready ? 0 : Math.min(5000, 250 * 2 ** Math.min(failedStarts, 5));
    setTimeout(() => {
      if (!closed && workers.size < processes.count) spawnWorker();
    }, delay).unref();
  }

  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const worker of workers) {
      // A process still loading its modules (seconds on a busy machine) has not begun to beat yet.
      const limit = worker.ready ? unresponsiveMs : START_MS;
      if (now - worker.lastBeat > limit) retire(worker, 'unresponsive', `the sandbox process did not answer for ${now - worker.lastBeat} ms`);
    }
  }, HEARTBEAT_MS);
  watchdog.unref();

  function start(): void {
    if (started) return;
    started = true;
    startedAt = Date.now();
    for (let i = 0; i < processes.count; i += 1) spawnWorker();
  }

  /**
   * The ready process with the fewest executions in flight; waits for one until `deadline`, or,
   * before any process has ever been ready, for the processes to start (their start-up is
   * Ferry's own warm-up, not the script's time).
   */
  async function pick(deadline: number): Promise<Worker | undefined> {
    for (;;) {
      let best: Worker | undefined;
      for (const worker of workers) if (worker.ready && (!best || worker.inFlight.size < best.inFlight.size)) best = worker;
      if (best || closed) return best;
      const left = (everReady ? deadline : Math.max(deadline, startedAt + START_MS)) - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        readyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async function run<T = unknown>(request: RunRequest): Promise<Outcome<T>> {
    const startedAt = performance.now();
    if (closed) return { ok: false, kind: 'sandbox_error', message: 'The sandbox is closed.', logs: [], durationMs: 0 };
    start();
    const timeoutMs = Number(request.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs);
    const deadline = request.deadline ?? Date.now() + timeoutMs;
    const waitedFrom = Date.now();
    const firstStart = !everReady;
    const worker = await pick(deadline);
    // A wait for the first processes to start moves the deadline with it (see pick).
    const moved = firstStart ? Date.now() - waitedFrom : 0;
    if (!worker) {
      const message = closed ? 'The sandbox is closed.' : `No sandbox process was ready in time${lastFailure ? ` (the last one failed: ${lastFailure})` : ''}.`;
      return { ok: false, kind: closed ? 'sandbox_error' : 'timeout', message, logs: [], durationMs: Math.round((performance.now() - startedAt) * 100) / 100 };
    }
    const id = nextId++;
    const outcome = await new Promise<Outcome>((resolve) => {
      const late = setTimeout(() => {
        worker.inFlight.delete(id);
        resolve(unavailable('The sandbox process did not return the outcome in time.', startedAt));
      }, Math.max(0, deadline + moved - Date.now()) + LATE_MS);
      worker.inFlight.set(id, { resolve, started: startedAt, late });
      const data = dataOnly(request);
      // `poolSize` bounds the connections an instance keeps to a legacy database; each process
      // keeps pools of its own, so each gets its share.
      const poolSize = Number(request.limits?.poolSize ?? DEFAULT_LIMITS.poolSize);
      data.limits = { ...request.limits, poolSize: Math.max(1, Math.ceil(poolSize / processes.count)) };
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

  const sum = (pick: (worker: Worker) => Record<string, Record<string, number>>) => {
    const out: Record<string, Record<string, number>> = {};
    for (const worker of workers) {
      for (const [name, values] of Object.entries(pick(worker))) {
        const total = (out[name] ??= {});
        for (const [key, value] of Object.entries(values)) total[key] = (total[key] ?? 0) + value;
      }
    }
    return out;
  };

  return {
    run,
    /** Starts the processes now rather than with the first script. */
    start,
    /** Set while sandbox processes keep failing to start (then no script can run). */
    get broken(): string | undefined {
      return failedStarts >= FAILED_STARTS_BROKEN ? `${failedStarts} sandbox processes in a row failed to start: ${lastFailure}` : undefined;
    },
    /** Isolates per memory size, summed over the processes (as each last reported). */
    stats() {
      return sum((worker) => worker.stats) as Record<string, { alive: number; idle: number; waiting: number; size: number; created: number; compiled: number; reused: number; codeCacheHits: number }>;
    },
    /** Pooled connections to legacy databases, per driver, summed over the processes. */
    connectionStats() {
      return sum((worker) => worker.connections) as Record<string, { total: number; idle: number; active: number; waiting: number }>;
    },
    /** The processes now (ready or starting) and replacements by reason since start. */
    processStats() {
      const all = [...workers];
      return {
        ready: all.filter((worker) => worker.ready).length,
        starting: all.filter((worker) => !worker.ready).length,
        restarts: { ...restarts },
        processes: all.map((worker) => ({ pid: worker.child.pid, ready: worker.ready, inFlight: worker.inFlight.size })),
      };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(watchdog);
      for (const wake of readyWaiters.splice(0)) wake();
      await Promise.all(
        [...workers].map(
          (worker) =>
            new Promise<void>((resolve) => {
              const { child } = worker;
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
              child.once('exit', () => {
                clearTimeout(killer);
                resolve();
              });
              const close: ToChild = { type: 'close' };
              if (worker.ready && child.connected) child.send(close, undefined, {}, () => {});
              else child.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
