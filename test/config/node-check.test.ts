import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
// @ts-expect-error: a plain JavaScript file in bin/, kept out of TypeScript so every Node parses it
import { nodeProblem, requiredVersion } from '../../bin/check-node.js';
import { runNode } from '../helpers/process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const ENGINES: string = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).engines.node;

test('the minimum Node version is read from package.json engines', () => {
  assert.deepEqual(requiredVersion('>=22.18'), [22, 18, 0]);
  assert.deepEqual(requiredVersion('>= 24.1.2'), [24, 1, 2]);
  assert.throws(() => requiredVersion('^22'), /only ">=x.y.z"/);
  assert.equal(nodeProblem(process.version, ENGINES), undefined, 'the Node running the tests is accepted');
});

test('an older Node gets a sentence saying which version is needed and how to get it', () => {
  for (const version of ['v20.20.2', 'v22.17.9', 'v18.0.0']) {
    const problem: string | undefined = nodeProblem(version, '>=22.18');
    assert.match(problem ?? '', /needs Node\.js 22\.18\.0 or newer/, version);
    assert.match(problem ?? '', /nvm install 24/);
  }
  for (const version of ['v22.18.0', 'v22.19.1', 'v24.0.0', 'v30.1.0']) assert.equal(nodeProblem(version, '>=22.18'), undefined, version);
});

// The machine's own node (Debian's, 20 here) is the Node a newcomer runs by mistake.
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find(
  (path) => existsSync(path) && nodeProblem(execFileSync(path, ['-v'], { encoding: 'utf8' }).trim(), ENGINES),
);

test('the ferry command and npm start on an older Node exit 1 with that sentence, not ERR_UNKNOWN_FILE_EXTENSION', async (t) => {
  if (!OLD_NODE) {
    if (process.env.CI) assert.fail('CI needs a Node older than engines.node at /usr/bin/node for this test');
    t.diagnostic('no older Node on this machine: only the version check itself was tested');
    return;
  }
  for (const args of [['bin/ferry.js', 'start'], ['bin/check-node.js']]) {
    const run = await runNode(args, { cwd: ROOT, killAfterMs: 20_000, execPath: OLD_NODE });
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /Ferry needs Node\.js 22\.18\.0 or newer/);
    assert.doesNotMatch(run.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
  }
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  assert.equal(pkg.scripts.prestart, 'node bin/check-node.js', 'npm start runs the check first');
});
