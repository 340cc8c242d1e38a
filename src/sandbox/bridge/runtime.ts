import { ScriptFacingError } from './errors.ts';
import { integer, optionalString, string } from './args.ts';
import { op, syncOp, type OpTable } from './types.ts';

const URL_PARTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;
const SETTABLE = new Set(['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash']);
const LEVELS = new Set(['log', 'info', 'debug', 'warn', 'error', 'trace']);

function parts(url: URL): Record<string, string> {
  return Object.fromEntries(URL_PARTS.map((part) => [part, url[part]]));
}

function parseUrl(input: string, base?: string): URL {
  try {
    return new URL(input, base);
  } catch {
    throw Object.assign(new ScriptFacingError('Invalid URL', 'ERR_INVALID_URL'), { name: 'TypeError' });
  }
}

/** Console lines, uncaught exceptions, timers and URL parsing for the isolate's runtime. */
export function runtimeOps(): OpTable {
  return {
    console: op((execution, [level, text]) => {
      execution.log(LEVELS.has(String(level)) ? (level as 'log') : 'log', string(text, 'text'));
    }),
    uncaught: op((execution, [message, stack]) => {
      execution.fail(string(message, 'message'), optionalString(stack, 'stack'));
    }),
    'timer.sleep': op(
      (execution, [ms]) =>
        new Promise<void>((resolve, reject) => {
          const delay = Math.min(Math.max(0, integer(Math.floor(Number(ms)), 'delay')), execution.remaining());
          const timer = setTimeout(resolve, delay);
          execution.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new ScriptFacingError('The execution has ended.'));
          }, { once: true });
        }),
    ),
    'url.parse': syncOp((_execution, [input, base]) => parts(parseUrl(string(input, 'input'), optionalString(base, 'base')))),
    'url.set': syncOp((_execution, [href, part, value]) => {
      const url = parseUrl(string(href, 'href'));
      const name = string(part, 'part');
      if (!SETTABLE.has(name)) throw new ScriptFacingError(`Cannot set ${name}`);
      (url as unknown as Record<string, string>)[name] = string(value, 'value');
      return parts(url);
    }),
  };
}
