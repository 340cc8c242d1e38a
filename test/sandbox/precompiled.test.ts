import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { describe, it } from 'node:test';
import { precompile } from '../../src/sandbox/processes/precompiled.ts';

const CHILD = new URL('../../src/sandbox/processes/child.ts', import.meta.url);

/** The modules a sandbox process starts from (see docs/memory.md for what each saves). */
describe('the sandbox process’s precompiled modules', () => {
  const sources = precompile(CHILD);
  const names = Object.keys(sources).map((url) => url.slice(url.indexOf('/src/') + 1));

  it('follow the relative imports from child.ts, static and dynamic, and keep every line where it was', () => {
    for (const name of ['src/sandbox/processes/child.ts', 'src/sandbox/in-process.ts', 'src/sandbox/bridge/index.ts', 'src/log.ts'])
      assert.ok(names.includes(name), `${name} among ${names.length}`);
    for (const [url, js] of Object.entries(sources)) {
      const ts = readFileSync(new URL(url), 'utf8');
      assert.equal(js.split('\n').length, ts.split('\n').length, url);
      assert.notEqual(js, ts, `${url} was stripped`);
      assert.equal(stripTypeScriptTypes(js), js, `${url} has no types left to strip`);
    }
  });

  it('leave out what only the server needs: zod (limits are checked by the server) and the server’s side of the processes', () => {
    for (const [url, js] of Object.entries(sources)) assert.doesNotMatch(js, /from\s*['"]zod['"]/, `${url} imports zod`);
    for (const name of ['src/sandbox/limits.ts', 'src/sandbox/index.ts', 'src/sandbox/processes/supervisor.ts', 'src/sandbox/processes/pool.ts'])
      assert.ok(!names.includes(name), `${name} is loaded in the sandbox process`);
  });
});
