/**
 * The sandbox processes themselves: started with `--no-node-snapshot` and a heap bound, watched
 * through their heartbeat, and replaced when they exit, lose control of an isolate, outgrow
 * their memory bound or stop answering (their executions in flight then end as `unavailable`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Logger } from '../../log.ts';
import type { Outcome } from '../outcome.ts';
import type { ProcessOptions } from './options.ts';
import { precompile } from './precompiled.ts';
import { HEARTBEAT_MS, type FromChild, type ModuleReport, type ToChild } from './protocol.ts';

const CHILD = new URL('./child.ts', import.meta.url);
const HOOKS = new URL('./precompiled-hooks.mjs', import.meta.url);

/** The child's modules stripped once per server (precompiled.ts); null when that failed. */
let childSources: string | null | undefined;

type Reason = 'exit' | 'fatal' | 'rss' | 'unresponsive';

interface Pending {
  resolve: (outcome: Outcome) => void;
  started: number;
  late: NodeJS.Timeout;
}

export interface Worker {
  child: ChildProcess;
  ready: boolean;
  retired: boolean;
  inFlight: Map<number, Pending>;
  lastBeat: number;
  stats: Record<string, Record<string, number>>;
  connections: Record<string, Record<string, number>>;
  modules?: ModuleReport;
}

/** After this many processes in a row ended before they were ready, the sandbox reports itself broken. */
const FAILED_STARTS_BROKEN = 3;
/** How long a new process may take to become ready. */
const START_MS = 30_000;

export function createProcessPool(options: { log: Logger; processes: ProcessOptions; childOptions: Record<string, unknown> }) {
  const { log, processes, childOptions } = options;
  const unresponsiveMs = processes.unresponsiveMs ?? 5000;
  const workers = new Set<Worker>();
  const readyWaiters: (() => void)[] = [];
  const restarts: Record<Reason, number> = { exit: 0, fatal: 0, rss: 0, unresponsive: 0 };
  let started = false;
  let startedAt = 0;
  let everReady = false;
  let closed = false;
  let failedStarts = 0;
  let lastFailure = '';

  const forkChild = () => {
    if (childSources === undefined) {
      try {
        childSources = JSON.stringify(precompile(CHILD));
      } catch (error) {
        childSources = null;
        log.warn({ err: error }, 'sandbox processes will strip their own TypeScript (about 30 MB more each)');
      }
    }
    // --optimize-for-size: V8's heaps (this process's and every isolate's) grow less between
    // collections: about 15 MB less per process after a few hundred sign-ins, for about 0.1 ms
    // more per execution (docs/memory.md).
    const execArgv = ['--no-node-snapshot', `--max-old-space-size=${processes.heapMb}`, '--max-semi-space-size=4', '--optimize-for-size'];
    const piped = childSources !== null;
    const child = fork(CHILD, [], {
      execArgv: piped ? [...execArgv, '--import', HOOKS.href] : execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...(piped ? (['pipe'] as const) : [])],
    });
    if (piped) {
      const pipe = child.stdio[4] as Writable;
      // A process that dies before reading it closes the pipe: its exit is handled like any other.
      pipe.on('error', () => {});
      pipe.end(childSources);
    }
    return child;
  };

  const unavailable = (message: string, since: number): Outcome => ({
    ok: false,
    kind: 'unavailable',
    message,
    logs: [],
    durationMs: Math.round((performance.now() - since) * 100) / 100,
  });

  function spawnWorker(): void {
    let child: ChildProcess;
    try {
      child = forkChild();
    } catch (error) {
      // fork itself failed (out of memory or processes): try again as after a failed start.
      failedStarts += 1;
      lastFailure = `a sandbox process could not be started: ${(error as Error).message}`;
      log.error({ err: error }, lastFailure);
      setTimeout(
        () => {
          if (!closed && workers.size < processes.count) spawnWorker();
        },
        Math.min(5000, 250 * 2 ** Math.min(failedStarts, 5)),
      ).unref();
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
        noteModules(worker, message.modules);
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
        noteModules(worker, message.modules);
        worker.stats = message.stats;
        worker.connections = message.connections;
        if (message.rssMb > processes.maxRssMb)
          retire(worker, 'rss', `the sandbox process used ${message.rssMb} MiB of memory, over its bound of ${processes.maxRssMb} MiB`);
        break;
      case 'fatal':
        retire(worker, 'fatal', `isolated-vm lost control of an isolate: ${message.message}`);
        break;
    }
  }

  function noteModules(worker: Worker, modules: ModuleReport): void {
    const before = worker.modules?.strippedHere.length ?? 0;
    worker.modules = modules;
    if (modules.strippedHere.length > before)
      log.warn(
        { modules: modules.strippedHere.slice(before) },
        'a sandbox process stripped TypeScript modules the server had not precompiled (precompiled.ts)',
      );
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

  const sum = (of: (worker: Worker) => Record<string, Record<string, number>>) => {
    const out: Record<string, Record<string, number>> = {};
    for (const worker of workers) {
      for (const [name, values] of Object.entries(of(worker))) {
        const total = (out[name] ??= {});
        for (const [key, value] of Object.entries(values)) total[key] = (total[key] ?? 0) + value;
      }
    }
    return out;
  };

  return {
    start,
    pick,
    unavailable,
    get closed() {
      return closed;
    },
    get everReady() {
      return everReady;
    },
    get lastFailure() {
      return lastFailure;
    },
    /** Set while sandbox processes keep failing to start (then no script can run). */
    get broken(): string | undefined {
      return failedStarts >= FAILED_STARTS_BROKEN ? `${failedStarts} sandbox processes in a row failed to start: ${lastFailure}` : undefined;
    },
    /** Isolates per memory size, summed over the processes (as each last reported). */
    stats() {
      return sum((worker) => worker.stats) as Record<
        string,
        { alive: number; idle: number; waiting: number; size: number; created: number; compiled: number; reused: number; codeCacheHits: number }
      >;
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
        processes: all.map((worker) => ({ pid: worker.child.pid, ready: worker.ready, inFlight: worker.inFlight.size, modules: worker.modules })),
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
