import { Script } from 'node:vm';
import { BadRequest } from '../../errors.ts';
import type { ScriptName } from '../../connection/connection.ts';

/** Where a problem with a script is, for the editor to point at (1-based). */
export interface ScriptProblem {
  path: 'source';
  message: string;
  line?: number;
  column?: number;
}

/**
 * Checks a script before it is saved, so that a broken `login` cannot silently stop legacy
 * sign-in: it must fit in `maxScriptKb`, parse, and declare the function it is called by. The
 * source is only compiled by node:vm (never run) — as the sandbox compiles it, as a classic script.
 */
export function checkScript(name: ScriptName, source: string, maxScriptKb: number): void {
  const size = Buffer.byteLength(source);
  if (size > maxScriptKb * 1024) {
    throw problem(`The ${name} script is ${Math.ceil(size / 1024)} KiB; the limit (connection.limits.maxScriptKb) is ${maxScriptKb} KiB.`, {
      path: 'source',
      message: 'too large',
    });
  }
  const syntax = compileError(source, name);
  if (syntax) {
    throw problem(`The ${name} script has a syntax error at line ${syntax.line}, column ${syntax.column}: ${syntax.message}`, { path: 'source', ...syntax });
  }
  if (!declares(source, name)) {
    throw problem(`The ${name} script must define a function named ${name}, e.g. async function ${name}(...) { ... }.`, {
      path: 'source',
      message: `no function named ${name}`,
    });
  }
}

/**
 * True when the script's top level declares `name` (function, var, let, const or class): V8
 * refuses a second, lexical declaration of a name the script already declares — at compile time.
 * A script that assigns the global instead (`login = async function …`) is accepted too.
 */
function declares(source: string, name: string): boolean {
  const redeclared = compileError(`${source}\n;let ${name};`, name);
  if (redeclared?.message === `Identifier '${name}' has already been declared`) return true;
  return new RegExp(`(^|[^.\\w$])(globalThis\\.|this\\.)?${name}\\s*=(?!=)`, 'm').test(source);
}

function compileError(source: string, name: string): { message: string; line: number; column: number } | undefined {
  try {
    new Script(source, { filename: `${name}.js` });
    return undefined;
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'SyntaxError') throw error;
    // V8's stack starts "<file>:<line>", the source line, then a caret under the column.
    const [where = '', , caret = ''] = (error.stack ?? '').split('\n');
    const line = Number(/:(\d+)$/.exec(where)?.[1] ?? 0);
    const column = caret.indexOf('^') + 1;
    return { message: error.message, line, column };
  }
}

function problem(message: string, details: ScriptProblem): BadRequest {
  return new BadRequest(message, 'invalid_script', [details]);
}
