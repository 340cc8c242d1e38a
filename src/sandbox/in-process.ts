/**
 * The sandbox itself: a pool of isolated-vm isolates and the bridged drivers, in this process.
 * The server uses it through index.ts (which checks each request's limits with zod); a sandbox
 * process uses it directly (processes/child.ts), with limits the server checked, so that zod is
 * not loaded there (about 5.5 MB less in each process, docs/memory.md).
 */
import { availableParallelism } from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createDriverPools, createOpTable } from './bridge/index.ts';
import { Execution } from './execution.ts';
import type { RunRequest, Sandbox, SandboxOptions } from './index.ts';
import type { Egress, Limits } from './limits.ts';
import { capMessage, type FailureKind, type Outcome } from './outcome.ts';
import { createIsolatePool, type IsolatePool, type PreparedContext, type Slot } from './pool.ts';
import { secretValues } from './secrets.ts';
import { fromIsolateValue } from './values.ts';

const CPU_CHECK_MS = 20;

/** Why an execution stopped before its script finished. */
class Stop extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Runs customer scripts in isolated-vm, in this process. Every outcome is a value, never an
 * exception: `{ ok: true, value }` or `{ ok: false, kind, message }`, with the console lines and
 * the duration. `check` gives a request's limits and egress rules with the defaults filled in.
 */
export function createInProcessSandbox(options: SandboxOptions, check: (request: RunRequest) => { limits: Limits; egress: Egress }): Sandbox {
  collectOnExit();
  const pools = new Map<number, IsolatePool>();
  let broken: string | undefined;
  const driverPools = createDriverPools();
  const ops = createOpTable({ pools: driverPools, ...(options.ops ? { overrides: options.ops } : {}) });

  const onCatastrophicError = (message: string) => {
    if (broken) return;
    broken = message;
    endWithSigkillOnExit();
    options.log.fatal({ message }, 'isolated-vm lost control of an isolate; script execution is disabled until Ferry restarts');
    options.onFatal?.(message);
  };

  const poolFor = (memoryMb: number) => {
    let pool = pools.get(memoryMb);
    if (!pool) {
      pool = createIsolatePool({
        memoryMb,
        size: options.poolSize ?? Math.max(4, availableParallelism() * 2),
        maxUsesPerIsolate: options.maxUsesPerIsolate ?? 500,
        ops,
        onCatastrophicError,
      });
      pools.set(memoryMb, pool);
    }
    return pool;
  };

  async function run<T = unknown>(request: RunRequest): Promise<Outcome<T>> {
    const started = performance.now();
    const checked = check(request);
    const { limits } = checked;
    const egress = { allow: checked.egress.allow, ferryPort: options.ferryPort?.(), store: options.store };
    const execution = new Execution(limits, {
      secrets: secretValues(request.env ?? {}),
      egress,
      watchedPassword: request.watchPassword,
      deadline: request.deadline,
    });
    const finish = (result: { ok: true; value: T; verifiedBcryptHash?: string } | { ok: false; kind: FailureKind; message: string }): Outcome<T> => ({
      ...result,
      ...(result.ok ? {} : { message: capMessage(result.message) }),
      logs: execution.logs,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });

    if (broken) return finish({ ok: false, kind: 'sandbox_error', message: 'Script execution is disabled after a fatal sandbox error.' });
    const size = Buffer.byteLength(request.source);
    if (size > limits.maxScriptKb * 1024) {
      return finish({ ok: false, kind: 'syntax', message: `The script is ${Math.ceil(size / 1024)} KiB; the limit is ${limits.maxScriptKb} KiB.` });
    }

    let acquired: { slot: Slot; prepared: PreparedContext } | undefined;
    /** True while the script may still be running in the isolate (then the isolate cannot be reused). */
    let running = false;
    try {
      acquired = await poolFor(limits.memoryMb).acquire(execution.deadline);
    } catch (error) {
      await execution.closeAll();
      const kind = Date.now() >= execution.deadline ? 'timeout' : 'sandbox_error';
      return finish({ ok: false, kind, message: `No sandbox was available: ${(error as Error).message}` });
    }
    const { slot, prepared } = acquired;
    try {
      prepared.bind(execution);
      const script = await compile(slot, request);
      if (!script.ok) return finish(script);
      prepared.setup.applySync(undefined, [request.env ?? {}, isolateLimits(limits), request.name, request.args], { arguments: { copy: true } });
      running = true;
      const work = script.script.run(prepared.context, { timeout: limits.cpuTimeMs, promise: true, copy: true }).finally(() => (running = false));
      const value = fromIsolateValue(await guard(work, slot, execution));
      if (execution.refusal) throw new Stop(execution.refusal.kind, execution.refusal.message);
      if (execution.uncaught) throw new Stop('script_error', execution.uncaught.message);
      const problem = request.validate?.(value);
      if (problem) return finish({ ok: false, kind: 'invalid_result', message: problem });
      return finish({ ok: true, value: value as T, ...(execution.verifiedBcryptHash ? { verifiedBcryptHash: execution.verifiedBcryptHash } : {}) });
    } catch (error) {
      return finish({ ok: false, ...classify(error, slot, execution) });
    } finally {
      // From here the context's bridge refuses every call. Closing what the script left open and
      // recycling the isolate happen after the outcome is returned: nobody needs to wait for them.
      prepared.bind(undefined);
      const reusable = !running;
      void execution.closeAll().finally(() => {
        if (!slot.isolate.isDisposed) prepared.release();
        poolFor(limits.memoryMb).release(slot, reusable);
      });
    }
  }

  return {
    run,
    /** True once a catastrophic isolate error has disabled script execution. */
    get broken() {
      return broken;
    },
    /** Isolates per memory size. */
    stats() {
      return Object.fromEntries([...pools].map(([memoryMb, pool]) => [`${memoryMb}MiB`, pool.stats()]));
    },
    /** Pooled connections to legacy databases, per driver. */
    connectionStats() {
      return driverPools.stats();
    },
    start: () => {},
    processStats: () => undefined,
    async close(): Promise<void> {
      for (const pool of pools.values()) pool.close();
      pools.clear();
      await driverPools.close();
    },
  };
}

/**
 * After a catastrophic error isolated-vm parks the lost isolate's thread for good, and Node's own
 * exit then waits for that thread forever: `process.exit()` (a SIGTERM shutdown, the end of a
 * test) would hang until someone sends SIGKILL. So once that has happened, the process ends
 * itself with SIGKILL when it exits; its exit code is lost, which is the lesser evil.
 */
let sigkillOnExit = false;
function endWithSigkillOnExit(): void {
  if (sigkillOnExit) return;
  sigkillOnExit = true;
  process.once('exit', () => process.kill(process.pid, 'SIGKILL'));
}

/**
 * isolated-vm frees each of its host-side objects (an Isolate, a Context, a Reference…) in a V8
 * weak callback that looks up isolated-vm's environment for Node's isolate. On a natural exit
 * Node first runs isolated-vm's clean-up hook, which destroys that environment, and then tears
 * its isolate down; if a garbage collection was under way then, V8 finishes it, calls those
 * callbacks, and isolated-vm aborts the process (`IsolateEnvironment::GetCurrent(): Assertion
 * 'environment != nullptr' failed`, exit 134 instead of 0: in CI after a test file had passed,
 * and in 4 of 15 runs of the sandbox tests here). A full collection on 'exit', while the
 * environment still exists, finishes any collection under way and runs every such callback in
 * time. (Not after a catastrophic error: that process ends with SIGKILL anyway.)
 */
let collectingOnExit = false;
function collectOnExit(): void {
  if (collectingOnExit) return;
  collectingOnExit = true;
  const collect = (globalThis as { gc?: () => void }).gc ?? exposedGc();
  process.once('exit', () => {
    if (!sigkillOnExit) collect();
  });
}

/** V8's gc(), from a context made while --expose-gc is set: only that one, never a script's. */
function exposedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

async function compile(slot: Slot, request: RunRequest) {
  try {
    return { ok: true as const, script: await slot.compile(request.source, `file:///scripts/${request.name}.js`) };
  } catch (error) {
    return { ok: false as const, kind: 'syntax' as const, message: errorMessage(error) };
  }
}

/**
 * Waits for the script while enforcing what isolated-vm's own timeout cannot: the wall-clock
 * deadline over awaited I/O and promises that never settle, CPU time spent in async
 * continuations, and exceptions thrown where the script could not catch them.
 */
function guard(work: Promise<unknown>, slot: Slot, execution: Execution): Promise<unknown> {
  const cpuStart = slot.isolate.cpuTime;
  const cpuLimit = BigInt(execution.limits.cpuTimeMs) * 1_000_000n;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let cpuTimer: NodeJS.Timeout | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (kind: FailureKind, message: string, dispose: boolean) => {
      if (dispose && !slot.isolate.isDisposed) slot.isolate.dispose();
      reject(new Stop(kind, message));
    };
    deadlineTimer = setTimeout(() => stop('timeout', `The script did not finish within ${execution.limits.timeoutMs} ms.`, true), execution.remaining());
    cpuTimer = setInterval(() => {
      if (!slot.isolate.isDisposed && slot.isolate.cpuTime - cpuStart > cpuLimit) {
        stop('timeout', `The script used more than ${execution.limits.cpuTimeMs} ms of CPU time.`, true);
      }
    }, CPU_CHECK_MS);
    execution.whenUncaught(() => stop('script_error', execution.uncaught!.message, false));
    execution.whenRefused(() => stop(execution.refusal!.kind, execution.refusal!.message, false));
  });
  return Promise.race([work, stopped]).finally(() => {
    clearTimeout(deadlineTimer);
    clearInterval(cpuTimer);
  });
}

function classify(error: unknown, slot: Slot, execution: Execution): { kind: FailureKind; message: string } {
  // A refused value ends the execution as the boundary or the driver said, whatever the script made of the error.
  if (execution.refusal && !(error instanceof Stop && error.kind === 'timeout')) return execution.refusal;
  if (error instanceof Stop) {
    // A script that failed or ran out of time after a driver could not reach its server (or waited in
    // vain for a pooled connection) failed because the legacy side was unavailable.
    const unavailable = (error.kind === 'script_error' || error.kind === 'timeout') && execution.unavailable;
    return { kind: unavailable ? 'unavailable' : error.kind, message: error.message };
  }
  const message = errorMessage(error);
  if (/disposed during execution due to memory limit|Array buffer allocation failed|Invalid array length|Invalid string length/.test(message)) {
    if (!slot.isolate.isDisposed) slot.isolate.dispose();
    return { kind: 'memory', message: `The script ran out of memory (the limit is ${execution.limits.memoryMb} MiB).` };
  }
  if (/Script execution timed out/.test(message)) {
    return { kind: 'timeout', message: `The script used more than ${execution.limits.cpuTimeMs} ms of CPU time.` };
  }
  // isolated-vm gives up on a promise the isolate has garbage-collected: nothing could ever settle
  // it, so the script would have run into its deadline, and whether the collector came first is
  // chance. Either way it is a timeout.
  if (/^Promise was abandoned/.test(message)) {
    return classify(new Stop('timeout', 'The script waited for a promise that nothing can settle, so it could never finish.'), slot, execution);
  }
  if (/^Isolate (was|is) disposed/.test(message)) return { kind: 'sandbox_error', message };
  if (/could not be cloned|non-transferable|A non-transferable value/.test(message)) {
    return { kind: 'invalid_result', message: `The script finished with a value that cannot be returned: ${message}` };
  }
  if (/^The script must define a function named/.test(message)) return { kind: 'syntax', message };
  if (execution.unavailable) return { kind: 'unavailable', message };
  return { kind: 'script_error', message };
}

/** The message of whatever a script threw (an Error, a string, anything). */
function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** What the isolate-side runtime needs to know of the limits. */
function isolateLimits(limits: Limits) {
  return {
    maxBridgeOps: limits.maxBridgeOps,
    maxTimers: limits.maxTimers,
    consoleBytes: limits.maxConsoleKb * 1024,
    resultBytes: limits.maxResultKb * 1024,
    cryptoInputBytes: limits.maxCryptoInputKb * 1024,
  };
}
