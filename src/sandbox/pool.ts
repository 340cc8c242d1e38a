import { createHash } from 'node:crypto';
import ivm from 'isolated-vm';
import { withTimeout } from '../timeout.ts';
import { createDispatcher, type OpTable } from './bridge/index.ts';
import type { Execution } from './execution.ts';
import { isolateRuntimeSource } from './isolate-source.ts';

/** A fresh context with the runtime loaded, waiting for one execution. */
export interface PreparedContext {
  context: ivm.Context;
  /** setup(env, limits, name, args): stores the call the script's last line makes. */
  setup: ivm.Reference;
  /** Routes the context's bridge calls to `execution` (undefined: refuse them all). */
  bind(execution: Execution | undefined): void;
  release(): void;
}

/** One isolate: it runs one execution at a time, each in a context of its own. */
export interface Slot {
  readonly isolate: ivm.Isolate;
  /** The compiled runtime (isolate/*.js), run in every fresh context. */
  readonly runtime: ivm.Script;
  uses: number;
  next: Promise<PreparedContext> | undefined;
  compile(source: string, filename: string): Promise<ivm.Script>;
}

const SCRIPTS_PER_ISOLATE = 64;
const CACHED_DATA_ENTRIES = 128;
/** A context that takes longer than this to prepare means the isolate is busy with leftovers. */
const PREPARE_TIMEOUT_MS = 2000;
const WARM_SPARES = 2;

export interface PoolOptions {
  memoryMb: number;
  /** Most isolates alive at once (each runs one execution at a time). */
  size: number;
  /** An isolate is replaced after this many executions, to keep heaps small. */
  maxUsesPerIsolate: number;
  ops: OpTable;
  onCatastrophicError(message: string): void;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(error: Error): void;
}

/**
 * Isolates are pooled and reused; every execution gets a fresh context, prepared in the background
 * right after the previous execution so that creating it costs no latency. Compiled scripts are
 * cached per isolate, and V8's code cache is shared between isolates.
 */
export function createIsolatePool(options: PoolOptions) {
  const idle: Slot[] = [];
  const waiters: Waiter[] = [];
  const codeCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();
  let alive = 0;
  let closed = false;
  /** For stats(): isolates created, scripts compiled, runs that found their script compiled in the isolate, compilations V8's code cache served. */
  const counts = { created: 0, compiled: 0, reused: 0, codeCacheHits: 0 };

  const cachedCompile = async (isolate: ivm.Isolate, source: string, filename: string): Promise<ivm.Script> => {
    const key = createHash('sha256').update(filename).update('\0').update(source).digest('base64url');
    const cachedData = codeCache.get(key);
    const script = (await isolate.compileScript(source, { filename, ...(cachedData ? { cachedData } : { produceCachedData: true }) })) as ivm.Script &
      ivm.CachedDataResult;
    if (cachedData && (script as { cachedDataRejected?: boolean }).cachedDataRejected !== true) counts.codeCacheHits += 1;
    if (!cachedData && script.cachedData) {
      if (codeCache.size >= CACHED_DATA_ENTRIES) codeCache.delete(codeCache.keys().next().value!);
      codeCache.set(key, script.cachedData);
    }
    return script;
  };

  const createSlot = async (): Promise<Slot> => {
    const isolate = new ivm.Isolate({ memoryLimit: options.memoryMb, onCatastrophicError: options.onCatastrophicError });
    counts.created += 1;
    try {
      const runtime = await cachedCompile(isolate, isolateRuntimeSource(), 'ferry:runtime.js');
      const scripts = new Map<string, ivm.Script>();
      const slot: Slot = {
        isolate,
        runtime,
        uses: 0,
        next: prepare(isolate, runtime, options.ops),
        async compile(source, filename) {
          const key = `${filename}\0${source}`;
          const hit = scripts.get(key);
          if (hit) {
            counts.reused += 1;
            scripts.delete(key); // most recently used goes last
            scripts.set(key, hit);
            return hit;
          }
          // The script's own source, then the call: one run does both (see invoke in isolate/runtime/entry.js).
          const script = await cachedCompile(isolate, `${source}\n;__ferry_invoke();`, filename);
          counts.compiled += 1;
          if (scripts.size >= SCRIPTS_PER_ISOLATE) {
            const oldest = scripts.keys().next().value!;
            scripts.get(oldest)?.release();
            scripts.delete(oldest);
          }
          scripts.set(key, script);
          return script;
        },
      };
      await slot.next;
      return slot;
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose();
      throw error;
    }
  };

  /** Gives a slot to the longest waiter, or puts it back with the idle ones. */
  const hand = (slot: Slot) => {
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(slot);
    else idle.push(slot);
  };

  /** Disposes a slot; a waiter, if any, gets a new isolate in its place. */
  const discard = (slot: Slot) => {
    if (!slot.isolate.isDisposed) slot.isolate.dispose();
    alive -= 1;
    if (waiters.length === 0 || closed) return;
    alive += 1;
    createSlot().then(hand, (error: Error) => {
      alive -= 1;
      waiters.shift()?.reject(error);
    });
  };

  const nextSlot = async (deadline: number): Promise<Slot> => {
    if (closed) throw new Error('The sandbox is closed.');
    // The slot idle longest has had the most time to prepare its next context.
    const ready = idle.shift();
    if (ready) return ready;
    if (alive < options.size) {
      alive += 1;
      try {
        return await createSlot();
      } catch (error) {
        alive -= 1;
        throw error;
      }
    }
    return new Promise<Slot>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error('No isolate became free before the deadline.'));
        },
        Math.max(1, deadline - Date.now()),
      );
      const waiter: Waiter = {
        resolve: (slot) => {
          clearTimeout(timer);
          resolve(slot);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      waiters.push(waiter);
    });
  };

  return {
    /**
     * Waits for an isolate and takes its fresh context; rejects if none is ready before
     * `deadline`. An isolate whose context does not come within PREPARE_TIMEOUT_MS (still busy
     * with something a previous script left running) is disposed and replaced.
     */
    async acquire(deadline: number): Promise<{ slot: Slot; prepared: PreparedContext }> {
      for (;;) {
        const slot = await nextSlot(deadline);
        try {
          const prepared = await withTimeout(
            slot.next!,
            Math.min(PREPARE_TIMEOUT_MS, Math.max(1, deadline - Date.now())),
            'The isolate did not become ready in time.',
          );
          slot.next = undefined;
          slot.uses += 1;
          return { slot, prepared };
        } catch (error) {
          discard(slot);
          if (Date.now() >= deadline) throw error;
        }
      }
    },

    /**
     * Returns a slot after an execution. A broken one (limit hit, disposed, work abandoned) or a
     * worn-out one is disposed and its place freed; a healthy one prepares its next context.
     */
    release(slot: Slot, healthy: boolean): void {
      if (closed || !healthy || slot.isolate.isDisposed || slot.uses >= options.maxUsesPerIsolate) {
        discard(slot);
        return;
      }
      slot.next = prepare(slot.isolate, slot.runtime, options.ops);
      slot.next.catch(() => {});
      hand(slot);
      // Keep a spare warm isolate, so back-to-back executions never wait for a context.
      if (idle.length < WARM_SPARES && alive < options.size) {
        alive += 1;
        createSlot().then(hand, () => (alive -= 1));
      }
    },

    stats() {
      return { alive, idle: idle.length, waiting: waiters.length, size: options.size, ...counts };
    },

    close(): void {
      closed = true;
      for (const slot of idle.splice(0)) if (!slot.isolate.isDisposed) slot.isolate.dispose();
      for (const waiter of waiters.splice(0)) waiter.reject(new Error('The sandbox is closed.'));
    },
  };
}

export type IsolatePool = ReturnType<typeof createIsolatePool>;

/**
 * A new context with the runtime in it: the runtime script's value is `ferryRuntime(host)`, called
 * with the bridge's reference, which answers with `setup`. All of it runs on the isolate's own
 * thread; the host's dispatcher never touches the context's global object.
 */
async function prepare(isolate: ivm.Isolate, runtime: ivm.Script, ops: OpTable): Promise<PreparedContext> {
  const context = await isolate.createContext();
  let bound: Execution | undefined;
  const dispatcher = new ivm.Reference(createDispatcher(ops, () => bound));
  const ferryRuntime = (await runtime.run(context, { timeout: 1000, reference: true })) as ivm.Reference;
  const setup = (await ferryRuntime.apply(undefined, [dispatcher], { timeout: 1000, result: { reference: true } })) as ivm.Reference;
  ferryRuntime.release();
  return {
    context,
    setup,
    bind(execution) {
      bound = execution;
    },
    release() {
      bound = undefined;
      setup.release();
      dispatcher.release();
      context.release();
    },
  };
}
