import type { Limits } from './limits.ts';
import { capMessage, type LogLine } from './outcome.ts';
import type { EgressPolicy } from './bridge/egress.ts';
import { isUnavailable, safeBridgeError, ScriptFacingError, type BridgeError } from './bridge/errors.ts';

/** How far past the deadline `pastDeadline()` reaches: Node runs due timers in expiry order. */
const PAST_DEADLINE_MS = 100;

interface Resource {
  kind: string;
  value: unknown;
  /** Counts against `maxConnections`. */
  connection: boolean;
  close(): Promise<unknown> | unknown;
}

export type BridgeResult = { ok: true; value: unknown } | { ok: false; error: BridgeError };

/**
 * Everything one script execution owns on the host: its connections and pools, its timers and
 * requests (through `signal`), its console lines, and what went wrong. `closeAll()` at the end
 * releases all of it, whatever the script did or forgot.
 */
export class Execution {
  readonly limits: Limits;
  readonly startedAt = Date.now();
  readonly deadline: number;
  readonly logs: LogLine[] = [];
  /** Secret values never to echo back (passwords, connection URIs). */
  readonly secrets: string[];
  /** What the script's connections and requests may reach (connection.egress, Ferry's port and store). */
  readonly egress: EgressPolicy;
  /** Aborted when the execution ends: pending timers and HTTP requests stop with it. */
  readonly signal: AbortSignal;
  /** A bridged driver failed to reach its server during this execution. */
  unavailable = false;
  /**
   * Why the execution must end although the script may not have failed: a value over a size limit
   * (`limit`) or one that cannot be copied (`invalid_result`). Set by the boundary and the drivers;
   * the script cannot undo it by catching the error it was given.
   */
  refusal: { kind: 'limit' | 'invalid_result'; message: string } | undefined;
  /** An exception thrown where the script could not catch it (a timer, a callback). */
  uncaught: { message: string; stack?: string | undefined } | undefined;
  private readonly abort = new AbortController();
  private readonly resources = new Map<number, Resource>();
  private nextHandle = 1;
  private inflight = 0;
  private logBytes = 0;
  private onUncaught: (() => void) | undefined;
  private onRefused: (() => void) | undefined;

  /** The password a login is checking (see `verifiedBcryptHash`). */
  readonly watchedPassword: string | undefined;
  /** A bcrypt hash that bcrypt.compare accepted the watched password for, exactly as given. */
  verifiedBcryptHash: string | undefined;

  constructor(
    limits: Limits,
    options: { secrets?: string[]; egress?: EgressPolicy | undefined; watchedPassword?: string | undefined; deadline?: number | undefined } = {},
  ) {
    this.limits = limits;
    this.deadline = Math.min(this.startedAt + limits.timeoutMs, options.deadline ?? Infinity);
    this.secrets = options.secrets ?? [];
    this.egress = options.egress ?? { allow: [], ferryPort: undefined, store: undefined };
    this.watchedPassword = options.watchedPassword;
    this.signal = this.abort.signal;
  }

  get ended(): boolean {
    return this.signal.aborted;
  }

  /** Milliseconds left before the deadline (at least 1). */
  remaining(): number {
    return Math.max(1, this.deadline - Date.now());
  }

  /**
   * How long a driver call or a script's timer may wait: a little past the deadline. The deadline
   * stops the script and cuts its connections, so it has to come first and the outcome say
   * "timeout". Set to exactly what was left, a query's own timeout ("Query read timeout") or a
   * 60-second setTimeout raced the deadline and sometimes won, ending the script with a driver
   * error or letting it finish.
   */
  pastDeadline(): number {
    return this.remaining() + PAST_DEADLINE_MS;
  }

  /** A timeout for a driver: the smaller of `preferred` and what is left of the deadline. */
  boundedTimeout(preferred: number): number {
    return Math.max(1, Math.min(preferred, this.remaining()));
  }

  /** Throws unless another connection may be opened. */
  checkConnectionSlot(): void {
    let open = 0;
    for (const resource of this.resources.values()) if (resource.connection) open += 1;
    if (open >= this.limits.maxConnections) {
      throw new ScriptFacingError(
        `Too many open connections (the limit is ${this.limits.maxConnections}); end or release one first.`,
        'ERR_FERRY_CONNECTION_LIMIT',
      );
    }
  }

  /** Registers something to close at the end; returns the handle the isolate refers to it by. */
  open(kind: string, value: unknown, close: () => Promise<unknown> | unknown, connection = true): number {
    if (this.ended) {
      void Promise.resolve()
        .then(close)
        .catch(() => {});
      throw new ScriptFacingError('The execution has ended.');
    }
    const handle = this.nextHandle++;
    this.resources.set(handle, { kind, value, connection, close });
    return handle;
  }

  get<T>(handle: unknown, kinds: readonly string[]): T {
    const resource = typeof handle === 'number' ? this.resources.get(handle) : undefined;
    if (!resource || !kinds.includes(resource.kind)) throw new ScriptFacingError('This connection is closed or was never opened.', 'ERR_FERRY_CLOSED');
    return resource.value as T;
  }

  kindOf(handle: unknown): string | undefined {
    return typeof handle === 'number' ? this.resources.get(handle)?.kind : undefined;
  }

  /** Closes one resource (end(), release()); closing twice is harmless. */
  async close(handle: unknown): Promise<void> {
    const resource = typeof handle === 'number' ? this.resources.get(handle) : undefined;
    if (!resource) return;
    this.resources.delete(handle as number);
    await resource.close();
  }

  /** Ends the execution: aborts timers and requests, closes every connection still open. */
  async closeAll(): Promise<void> {
    this.abort.abort();
    const open = [...this.resources.values()];
    this.resources.clear();
    await Promise.allSettled(open.map(async (resource) => resource.close()));
  }

  /**
   * Keeps one console line (`time`: when the script printed it). The runtime already caps output at maxConsoleKb (a line costing its
   * length plus one); this cap, with room for the runtime's truncation notice, holds even if the
   * runtime's accounting were bypassed.
   */
  log(level: LogLine['level'], message: string, time = Date.now()): void {
    const room = this.limits.maxConsoleKb * 1024 + 256 - this.logBytes;
    if (room <= 0) return;
    const kept = message.length < room ? message : message.slice(0, room);
    this.logBytes += kept.length + 1;
    this.logs.push({ level, message: kept, at: Math.min(Math.max(0, time - this.startedAt), Date.now() - this.startedAt) });
  }

  fail(message: string, stack?: string): void {
    this.uncaught ??= { message: capMessage(message), stack };
    this.onUncaught?.();
  }

  whenUncaught(listener: () => void): void {
    this.onUncaught = listener;
  }

  /** Ends the execution as `kind` (the first refusal wins); returns the error to hand the script. */
  refuse(kind: 'limit' | 'invalid_result', message: string): ScriptFacingError {
    this.refusal ??= { kind, message: capMessage(message) };
    this.onRefused?.();
    return new ScriptFacingError(message, kind === 'limit' ? 'ERR_FERRY_LIMIT' : 'ERR_FERRY_INVALID_VALUE');
  }

  whenRefused(listener: () => void): void {
    this.onRefused = listener;
  }

  /**
   * Runs a host operation for the isolate; never throws, so no host exception escapes. Operations
   * in flight are capped at what the runtime itself allows (maxBridgeOps calls plus maxTimers
   * sleeps), in case its own counting were bypassed; notifications (`counted` false) answer at
   * once and are not counted.
   */
  async run(handler: () => unknown, counted = true): Promise<BridgeResult> {
    if (this.ended) return { ok: false, error: { message: 'The execution has ended.', code: 'ERR_FERRY_ENDED' } };
    if (!counted) return this.settle(handler);
    if (this.inflight >= this.limits.maxBridgeOps + this.limits.maxTimers) {
      return { ok: false, error: { message: 'Too many operations in progress at once.', code: 'ERR_FERRY_BRIDGE_LIMIT' } };
    }
    this.inflight += 1;
    try {
      return await this.settle(handler);
    } finally {
      this.inflight -= 1;
    }
  }

  private async settle(handler: () => unknown): Promise<BridgeResult> {
    try {
      return { ok: true, value: await handler() };
    } catch (error) {
      try {
        if (!(error instanceof ScriptFacingError) && isUnavailable(error)) this.unavailable = true;
      } catch {
        // an error object whose getters throw says nothing about the server being down
      }
      return { ok: false, error: safeBridgeError(error, this.secrets) };
    }
  }
}
