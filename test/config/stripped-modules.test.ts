import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../helpers/ferry.ts';
import { runNode } from '../helpers/process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Report {
  served: number;
  missed: string[];
  stripped: number;
  cacheWritten: boolean;
  error?: string;
}

test('npm start, the ferry command and the Docker image load Ferry through src/boot/stripped.mjs', () => {
  const start: string = JSON.parse(read('package.json')).scripts.start;
  assert.match(start, /--import \.\/src\/boot\/stripped\.mjs src\/cli\/main\.ts start/);
  assert.match(read('bin/ferry.js'), /'--import', stripped\];/);
  assert.match(read('bin/ferry.js'), /spawn\(process\.execPath, \[\.\.\.flags, main,/);
  assert.match(read('bin/ferry.js'), /join\(src, 'boot', 'stripped\.mjs'\)/);
  assert.match(read('Dockerfile'), /CMD \[.*"--import", "\.\/src\/boot\/stripped\.mjs", "src\/cli\/main\.ts", "start"\]/);
});

test("Ferry started with the start script's node flags runs a script in a sandbox process without ever loading Node's TypeScript stripper", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-stripped-'));
  try {
    const port = await freePort();
    const config = {
      issuer: `http://127.0.0.1:${port}`,
      port,
      host: '127.0.0.1',
      dataDir: join(dir, 'data'),
      demo: false,
      logLevel: 'error',
      adminToken: 'stripped-modules-test-admin-token-0123456789',
      connection: {
        enabled: true,
        mode: 'LAZY_MIGRATION',
        scriptsDir: join(ROOT, 'hooks', 'templates', 'postgres'),
        env: { DB_CONNECTION_URI: 'postgres://127.0.0.1:1/none' },
      },
    };
    writeFileSync(join(dir, 'ferry.config.json'), JSON.stringify(config));
    // The start script's node flags, with the fixture in place of `src/cli/main.ts start`.
    const words: string[] = JSON.parse(read('package.json')).scripts.start.split(/\s+/);
    const flags = words.slice(words.indexOf('node') + 1, words.indexOf('src/cli/main.ts'));
    const run = await runNode([...flags, join(ROOT, 'test', 'fixtures', 'boot', 'start-and-report.mjs')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, FERRY_CONFIG: join(dir, 'ferry.config.json') },
      killAfterMs: 60_000,
    });
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      script: { status: number; body: { ok: boolean; value: unknown } };
      report?: Report;
      stripperLoaded: boolean;
    };
    assert.equal(result.script.status, 200);
    assert.deepEqual([result.script.body.ok, result.script.body.value], [true, { id: 'someone' }], JSON.stringify(result.script.body));
    assert.ok(result.report, 'src/boot/stripped.mjs was loaded');
    assert.equal(result.report.error, undefined);
    assert.deepEqual(result.report.missed, [], 'every .ts module the server loaded came stripped');
    assert.ok(result.report.served > 100, `served ${result.report.served}`);
    assert.equal(result.stripperLoaded, false, "Node's TypeScript stripper (amaro) was loaded in the server");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A tree shaped like Ferry's (src/boot/ beside the modules, node_modules/.cache/ for the cache) with two modules of its own. */
function tree(): { root: string; run(): Promise<{ a: string; report: Report; stripperLoaded: boolean }> } {
  const root = mkdtempSync(join(tmpdir(), 'ferry-strip-cache-'));
  cpSync(join(ROOT, 'src', 'boot'), join(root, 'src', 'boot'), { recursive: true });
  mkdirSync(join(root, 'node_modules'));
  writeFileSync(join(root, 'src', 'a.ts'), "import { b } from './nested/b.ts';\ninterface A { a: string }\nexport const a: A['a'] = 'a' + String(b);\n");
  mkdirSync(join(root, 'src', 'nested'));
  writeFileSync(join(root, 'src', 'nested', 'b.ts'), 'export const b: number = 1;\n');
  const check = `const { a } = await import(${JSON.stringify(join(root, 'src', 'a.ts'))});
    const { report } = globalThis[Symbol.for('ferry.stripped')];
    console.log(JSON.stringify({ a, report, stripperLoaded: process.moduleLoadList.some((name) => name.includes('amaro')) }));`;
  return {
    root,
    async run() {
      const run = await runNode(['--import', join(root, 'src', 'boot', 'stripped.mjs'), '--input-type=module', '-e', check], { killAfterMs: 30_000 });
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout);
    },
  };
}

test('the stripped modules are cached per Node version, stripped again when a file changes, and a broken or unwritable cache only costs time', async () => {
  const { root, run } = tree();
  try {
    const cache = join(root, 'node_modules', '.cache', 'ferry', `stripped-${process.version}.json`);
    const first = await run();
    assert.equal(first.a, 'a1');
    assert.deepEqual(first.report, { served: 2, missed: [], stripped: 2, cacheWritten: true }, 'the first start strips every .ts file under src/');
    assert.equal(first.stripperLoaded, false);
    assert.ok(JSON.parse(readFileSync(cache, 'utf8'))[new URL(`file://${join(root, 'src', 'a.ts')}`).href].js.includes('export const a'));

    const second = await run();
    assert.deepEqual(
      [second.a, second.report.stripped, second.report.served, second.report.cacheWritten],
      ['a1', 0, 2, false],
      'the next start strips nothing',
    );

    writeFileSync(join(root, 'src', 'nested', 'b.ts'), 'export const b: number = 2;\n');
    const changed = await run();
    assert.deepEqual(
      [changed.a, changed.report.stripped, changed.report.served],
      ['a2', 1, 2],
      'only the changed file is stripped again, and its new code runs',
    );

    writeFileSync(cache, '{ not json');
    const broken = await run();
    assert.deepEqual([broken.a, broken.report.stripped, broken.report.served, broken.stripperLoaded], ['a2', 2, 2, false]);

    rmSync(join(root, 'node_modules'), { recursive: true });
    writeFileSync(join(root, 'node_modules'), 'a file where the cache directory would be');
    const unwritable = await run();
    assert.deepEqual([unwritable.a, unwritable.report.stripped, unwritable.report.cacheWritten, unwritable.stripperLoaded], ['a2', 2, false, false]);

    // A file the stripper refuses is left to Node, which reports its error as usual.
    writeFileSync(join(root, 'src', 'nested', 'b.ts'), 'export const b: number = ;\n');
    const refused = await runNode(['--import', join(root, 'src', 'boot', 'stripped.mjs'), join(root, 'src', 'a.ts')], { killAfterMs: 30_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /nested\/b\.ts/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
