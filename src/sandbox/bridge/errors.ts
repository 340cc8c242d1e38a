import { capMessage } from '../outcome.ts';
import { maskSecrets } from '../secrets.ts';

/**
 * Errors crossing into the isolate are plain `{ message, code }` records: no host stack, no
 * driver objects, and no credentials (connection URLs and configured secrets are blanked).
 */
export interface BridgeError {
  name?: string;
  message: string;
  code?: string | number;
  errno?: number;
  sqlState?: string;
  number?: number;
}

/** An error whose message the script may see as is (bad arguments, limits reached). */
export class ScriptFacingError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/** Network-level failures: the server could not be reached or went away. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
  'ESOCKET',
  'ETIMEOUT',
  'ECONNCLOSED',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'CONNECT_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_NAMES = new Set(['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoTopologyClosedError']);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|timeout expired|Failed to connect|getaddrinfo|socket hang up|server closed the connection/i;

export function isUnavailable(error: unknown, depth = 0): boolean {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause && cause !== error && depth < 8 && isUnavailable(cause, depth + 1)) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message) && !(error instanceof ScriptFacingError);
}

/** Removes credentials from a message: URL passwords and every secret value passed in (sandbox/secrets.ts's one rule). */
export function scrub(message: string, secrets: readonly string[]): string {
  return capMessage(maskSecrets(message, secrets));
}

/**
 * toBridgeError that cannot throw, whatever was thrown: a value whose getters throw must not turn
 * into an exception on the way to the isolate (isolated-vm would pass it on with the host's stack).
 */
export function safeBridgeError(error: unknown, secrets: readonly string[]): BridgeError {
  try {
    return toBridgeError(error, secrets);
  } catch {
    return { message: 'The operation failed.' };
  }
}

export function toBridgeError(error: unknown, secrets: readonly string[]): BridgeError {
  const source = (error ?? {}) as Record<string, unknown>;
  const message = typeof source.message === 'string' && source.message ? source.message : String(error);
  const out: BridgeError = { message: scrub(message, secrets) };
  if (source.name === 'TypeError' || source.name === 'RangeError') out.name = source.name;
  if (typeof source.code === 'string' || typeof source.code === 'number') out.code = source.code;
  else if (typeof (source.cause as { code?: unknown } | undefined)?.code === 'string') out.code = (source.cause as { code: string }).code;
  if (typeof source.errno === 'number') out.errno = source.errno;
  if (typeof source.sqlState === 'string') out.sqlState = source.sqlState;
  if (typeof source.number === 'number') out.number = source.number;
  return out;
}
