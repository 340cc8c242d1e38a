/**
 * Run by stripped.mjs in a process of its own, so that the server never loads Node's TypeScript
 * stripper: reads a JSON list of file URLs on standard input and writes `{ url: javascript }` for
 * them on standard output, each stripped as Node strips a module it loads (types blanked out, the
 * same line and column numbers). A file the stripper refuses is left out: Node then loads it
 * itself and reports its error as it would without any of this.
 */
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';

const urls = JSON.parse(readFileSync(0, 'utf8'));
const stripped = {};
for (const url of urls) {
  try {
    stripped[url] = stripTypeScriptTypes(readFileSync(new URL(url), 'utf8'), { mode: 'strip' });
  } catch {
    // Left to Node (see above).
  }
}
process.stdout.write(JSON.stringify(stripped));
