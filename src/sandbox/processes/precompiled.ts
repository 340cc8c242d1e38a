/**
 * Sandbox processes start without Node's TypeScript stripper. Node strips a `.ts` file's types
 * with a WebAssembly build of SWC (amaro) that it loads on the first `.ts` import and keeps: about
 * 30 MB of resident memory in every process that loads one (docs/memory.md). The server has it
 * loaded already, so it strips the sandbox process's own modules once, here, and hands the
 * JavaScript to each new process through a pipe; `precompiled-hooks.mjs` serves it from there.
 * Nothing else changes: the same files, the same URLs (`import.meta.url` included) and the same
 * line and column numbers, since stripping only blanks the types out. A module the walk missed is
 * loaded and stripped by Node as before, and reported in the process's ready message.
 *
 * A server started with `src/boot/stripped.mjs` (`npm start`, the `ferry` command, the image) has
 * no stripper loaded either: the modules come from what that hook already holds, and only a file
 * it lacks is stripped here.
 */
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';

/** What src/boot/stripped.mjs holds, when the server was started with it: file URL → JavaScript. */
const stripped = (globalThis as Record<symbol, { sources: Map<string, string> } | undefined>)[Symbol.for('ferry.stripped')]?.sources;

/** Static and dynamic imports of a relative `.ts` specifier, in JavaScript (types already blanked out). */
const RELATIVE_TS_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*(['"])(\.\.?\/[^'"\n]+?\.ts)\1/g;

/** `stripTypeScriptTypes` without its one-time ExperimentalWarning on the server's stderr. */
function strip(source: string): string {
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!text.includes('stripTypeScriptTypes')) (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}

/**
 * The JavaScript of every `.ts` module `entry` reaches through relative imports (types need no
 * module, and `import type` is blanked out, so only what runs is followed), keyed by file URL.
 */
export function precompile(entry: URL): Record<string, string> {
  const sources: Record<string, string> = {};
  const queue = [entry.href];
  for (let href = queue.pop(); href !== undefined; href = queue.pop()) {
    if (href in sources) continue;
    const js = stripped?.get(href) ?? strip(readFileSync(new URL(href), 'utf8'));
    sources[href] = js;
    for (const match of js.matchAll(RELATIVE_TS_IMPORT)) queue.push(new URL(match[2]!, href).href);
  }
  return sources;
}
