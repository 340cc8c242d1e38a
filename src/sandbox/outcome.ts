/** One line a script printed with console.*. */
export interface LogLine {
  level: 'log' | 'info' | 'debug' | 'warn' | 'error' | 'trace';
  message: string;
  /** Milliseconds since the execution started. */
  at: number;
}

export type FailureKind =
  /** The script threw; `message` is its message. */
  | 'script_error'
  /** The wall-clock deadline or the CPU time limit ran out. */
  | 'timeout'
  /** The isolate's heap limit was reached. */
  | 'memory'
  /** The script does not compile, is too large, or does not define the function. */
  | 'syntax'
  /** The script finished with a value that cannot be used (not copyable, or refused by the caller's check). */
  | 'invalid_result'
  /** A bridged driver could not reach its server (even if the script caught that and threw its own error). */
  | 'unavailable'
  /**
   * A value grew past a size limit on its way out of the isolate or in from a driver (the result,
   * a call's arguments, a query's rows, an HTTP body); the message names the limit.
   */
  | 'limit'
  /** Ferry's sandbox itself failed. */
  | 'sandbox_error';

export type Outcome<T = unknown> =
  /** `verifiedBcryptHash`: see RunRequest.watchPassword. */
  | { ok: true; value: T; logs: LogLine[]; durationMs: number; verifiedBcryptHash?: string }
  | { ok: false; kind: FailureKind; message: string; logs: LogLine[]; durationMs: number };

export const FAILURE_KINDS: readonly FailureKind[] = ['script_error', 'timeout', 'memory', 'syntax', 'invalid_result', 'unavailable', 'limit', 'sandbox_error'];

/** The longest failure message an outcome or a driver error carries: a script may throw a string of any size. */
export const MAX_MESSAGE_LENGTH = 2000;

export function capMessage(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
}
