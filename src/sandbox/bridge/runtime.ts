import type { Execution } from '../execution.ts';
import { ScriptFacingError } from './errors.ts';
import { array, integer, optionalString, string } from './args.ts';
import { op, syncOp, type OpGroup } from './types.ts';

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

/**
 * Host sleeps behind the isolate's timers, by timer id, so that clearTimeout can cancel one at
 * once instead of leaving it pending on the host until it would have fired.
 */
function timerOps(): Pick<OpGroup<'runtime'>, 'timer.sleep' | 'timer.cancel'> {
  const sleepsOf = new WeakMap<Execution, Map<number, () => void>>();
  const sleeps = (execution: Execution) => {
    let map = sleepsOf.get(execution);
    if (!map) sleepsOf.set(execution, (map = new Map()));
    return map;
  };
  return {
    'timer.sleep': op((execution, [id, ms]) => {
      const key = integer(id, 'id');
      const delay = Math.min(Math.max(0, integer(Math.floor(Number(ms)), 'delay')), execution.pastDeadline());
      return new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          clearTimeout(timer);
          sleeps(execution).delete(key);
          execution.signal.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve();
        };
        const onAbort = () => settle(new ScriptFacingError('The execution has ended.'));
        const timer = setTimeout(settle, delay);
        sleeps(execution).set(key, settle);
        execution.signal.addEventListener('abort', onAbort, { once: true });
      });
    }),
    'timer.cancel': op((execution, [id]) => {
      sleeps(execution).get(integer(id, 'id'))?.();
    }),
  };
}

/** Console lines, uncaught exceptions, timers and URL parsing for the isolate's runtime. */
export function runtimeOps(): OpGroup<'runtime'> {
  return {
    console: op((execution, [lines]) => {
      for (const line of array(lines, 'lines')) {
        const [level, text, time] = array(line, 'line');
        execution.log(LEVELS.has(String(level)) ? (level as 'log') : 'log', string(text, 'text'), typeof time === 'number' ? time : undefined);
      }
    }),
    uncaught: op((execution, [message, stack]) => {
      execution.fail(string(message, 'message'), optionalString(stack, 'stack'));
    }),
    'boundary.refuse': syncOp((execution, [kind, message]) => {
      execution.refuse(kind === 'limit' ? 'limit' : 'invalid_result', string(message, 'message'));
    }),
    ...timerOps(),
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
