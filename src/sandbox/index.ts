import type { Logger } from '../log.ts';
import type { OpTable, StoreAddress } from './bridge/index.ts';
import { createInProcessSandbox } from './in-process.ts';
import { checkedLimits, type EgressInput, type Limits, type LimitsInput } from './limits.ts';
import type { Outcome } from './outcome.ts';
import type { ModuleReport } from './processes/protocol.ts';
import { createSupervisor, type ProcessOptions } from './processes/supervisor.ts';

export type { Outcome, FailureKind, LogLine } from './outcome.ts';
export { capMessage, MAX_MESSAGE_LENGTH } from './outcome.ts';
export type { Egress, EgressInput, Limits, LimitsInput } from './limits.ts';
export { DEFAULT_LIMITS, egressSchema, limitsChangeSchema, limitsSchema, upgradeConnectionSettings } from './limits.ts';
export { storeAddress, type StoreAddress } from './bridge/index.ts';
export { ALLOWED_MODULES } from './isolate-source.ts';
export { sandboxProcessOptions, type ProcessOptions } from './processes/supervisor.ts';

export interface RunRequest {
  /** The function the script defines and Ferry calls: login, getUser, … */
  name: string;
  source: string;
  /** Copied into the isolate; the script receives copies. */
  args: unknown[];
  /** The connection's variables, the script's global `env`. */
  env?: Record<string, string>;
  limits?: LimitsInput | Limits;
  /** What the script's connections and HTTP requests may reach: `connection.egress`. */
  egress?: EgressInput | undefined;
  /** Checks a finished value; a returned sentence makes the outcome `invalid_result`. */
  validate?: (value: unknown) => string | undefined;
  /**
   * A login's password: if the script's bcrypt.compare accepts exactly this password for a hash,
   * a successful outcome carries that hash as `verifiedBcryptHash`, for a migration to adopt.
   */
  watchPassword?: string;
  /**
   * When (Date.now() milliseconds) the execution must be over at the latest, for a caller that has
   * already spent part of its time. `limits.timeoutMs` stays as configured: driver settings derived
   * from it name the host-side pools, so it must not vary from one execution to the next.
   */
  deadline?: number;
}

export interface SandboxOptions {
  log: Logger;
  /** Ferry's own port, which scripts may not connect to. */
  ferryPort?: () => number | undefined;
  /**
   * Ferry's own database (host, port, database name; plain data), which scripts may not connect
   * to. A legacy database on the same server stays reachable.
   */
  store?: StoreAddress | undefined;
  /** Isolates per memory size; each runs one execution at a time. */
  poolSize?: number;
  maxUsesPerIsolate?: number;
  /** Called once if V8 loses control of an isolate; the sandbox refuses every run from then on. */
  onFatal?: (message: string) => void;
  /** Extra or replacement host operations (tests, pooling); only without `processes`, since functions cannot cross to another process. */
  ops?: OpTable;
  /**
   * Run scripts in this many supervised child processes instead of in this one (see
   * docs/sandbox-processes.md). Without it (or with a count of 0) isolates live in this process.
   */
  processes?: ProcessOptions;
}

/** What callers use of a sandbox, in this process or in sandbox processes. */
export interface Sandbox {
  run<T = unknown>(request: RunRequest): Promise<Outcome<T>>;
  /** Set while no script can run: after a catastrophic isolate error in this process, or while sandbox processes fail to start. */
  readonly broken: string | undefined;
  /** Isolates per memory size. */
  stats(): Record<
    string,
    { alive: number; idle: number; waiting: number; size: number; created: number; compiled: number; reused: number; codeCacheHits: number }
  >;
  /** Pooled connections to legacy databases, per driver. */
  connectionStats(): Record<string, { total: number; idle: number; active: number; waiting: number }>;
  /** Starts the sandbox processes now rather than with the first script (nothing to start in-process). */
  start(): void;
  /** Sandbox processes (undefined when scripts run in this process). */
  processStats():
    | {
        ready: number;
        starting: number;
        restarts: Record<string, number>;
        processes: { pid: number | undefined; ready: boolean; inFlight: number; modules?: ModuleReport }[];
      }
    | undefined;
  close(): Promise<void>;
}

/**
 * Runs customer scripts in isolated-vm: in sandbox processes when `processes` asks for them
 * (processes/supervisor.ts), otherwise in this process (in-process.ts). Every outcome is a value,
 * never an exception: `{ ok: true, value }` or `{ ok: false, kind, message }`, with the console
 * lines and the duration.
 */
export function createSandbox(options: SandboxOptions): Sandbox {
  if (options.processes && options.processes.count > 0) {
    if (options.ops) throw new Error('Custom host operations (ops) cannot reach sandbox processes; use the in-process sandbox for them.');
    const { onFatal: _onFatal, ops: _ops, ...rest } = options;
    return createSupervisor({ ...rest, processes: options.processes });
  }
  return createInProcessSandbox(options, checkedLimits);
}
