/**
 * Loaded with `--import` in a sandbox process (plain JavaScript, so that loading it does not load
 * Node's TypeScript stripper): serves the modules the server stripped for it (precompiled.ts),
 * read whole from file descriptor 4, a pipe the server writes once and closes. Any other `.ts`
 * module is left to Node, which strips it as usual, and is counted as missed (the ready message
 * reports it, and a test holds it at none).
 */
import { readFileSync } from 'node:fs';
import { serveModules } from '../../boot/serve-modules.mjs';

const FROM_SERVER = 4;

let sources = {};
try {
  sources = JSON.parse(readFileSync(FROM_SERVER, 'utf8'));
} catch {
  // Nothing usable came: every module loads as it would without these hooks.
}

const report = { served: 0, missed: [] };
globalThis[Symbol.for('ferry.precompiled')] = report;

serveModules((url) => (Object.hasOwn(sources, url) ? sources[url] : undefined), report);
