import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line. */
const SECRET_KEY = /pass(word|wd|phrase)?|secret|token|authorization|cookie|credential|private|^d$|^p$|^q$|^dp$|^dq$|^qi$|^k$|DB_CONNECTION_URI|api[-_]?key/i;
/** `scheme://user:password@host` → `scheme://user:***@host`. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;
const MAX_DEPTH = 8;

/** A deep copy of `value` with secrets replaced by "[redacted]". Safe on cycles and deep nesting. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return value.replace(URL_CREDENTIALS, '$1***@');
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return redactError(value);
  if (value instanceof Date || depth >= MAX_DEPTH) return depth >= MAX_DEPTH ? '[deep]' : value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && item !== undefined && item !== null && item !== '' ? '[redacted]' : redact(item, depth + 1, seen);
  }
  return out;
}

function redactError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: error.name,
    message: redact(error.message),
    stack: typeof error.stack === 'string' ? redact(error.stack) : undefined,
  };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  return out;
}

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      serializers: { err: (error: Error) => redactError(error) },
    },
    options.destination ?? process.stdout,
  );
}
