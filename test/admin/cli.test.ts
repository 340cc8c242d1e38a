import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN } from '../helpers/admin.ts';
import { freePort, removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { postgresReachable } from '../helpers/services.ts';
import { runCli as ferry } from './run-cli.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'ferry.js');
const USERS = [
  { email: 'alice@example.com', username: 'alice', name: 'Alice Liddell', password: 'alice-legacy-pw' },
  { email: 'bob@example.com', username: 'bob', name: 'Bob Kahn', password: 'bob-legacy-pw' },
];

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('ferry init', () => {
  it('copies a template and refuses to overwrite without --force', async () => {
    const cwd = tempDir('ferry-init-');
    try {
      const first = await ferry(['init', '--template', 'postgres'], { cwd });
      assert.equal(first.code, 0, first.stderr);
      const files = readdirSync(join(cwd, 'hooks')).sort();
      assert.deepEqual(files, [
        'createUser.js',
        'deleteUser.js',
        'getUser.js',
        'listUsers.js',
        'login.js',
        'schema.sql',
        'searchUser.js',
        'updateUser.js',
        'validatePassword.js',
      ]);
      for (const file of files) {
        assert.equal(readFileSync(join(cwd, 'hooks', file), 'utf8'), readFileSync(join(TEMPLATES, 'postgres', file), 'utf8'));
        assert.match(first.stdout, new RegExp(`wrote hooks/${file.replace('.', '\\.')}`));
      }

      writeFileSync(join(cwd, 'hooks', 'login.js'), '// my own login\n');
      const again = await ferry(['init', '--template', 'mysql', '--dir', 'hooks'], { cwd });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /These files exist already: hooks\/login\.js, .*Nothing was written; add --force/);
      assert.equal(readFileSync(join(cwd, 'hooks', 'login.js'), 'utf8'), '// my own login\n');

      const forced = await ferry(['init', '--template', 'mysql', '--dir', 'hooks', '--force'], { cwd });
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /overwrote hooks\/login\.js/);
      assert.equal(readFileSync(join(cwd, 'hooks', 'login.js'), 'utf8'), readFileSync(join(TEMPLATES, 'mysql', 'login.js'), 'utf8'));

      const http = await ferry(['init', '--template', 'http', '--dir', 'api-hooks'], { cwd });
      assert.equal(http.code, 0, http.stderr);
      assert.ok(existsSync(join(cwd, 'api-hooks', 'api.md')), 'the HTTP template brings its API description');

      const unknown = await ferry(['init', '--template', 'oracle'], { cwd });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /Choose a template with --template: postgres, mysql, mongodb, mssql, http\./);
      const typo = await ferry(['init', '--templates', 'postgres'], { cwd });
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /Unknown option '--templates'/);
    } finally {
      removeDataDir(cwd);
    }
  });
});

describe('ferry test-script, migration status and keys rotate', () => {
  let legacy: LegacyDatabase;
  let cwd: string;
  let env: Record<string, string>;

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', USERS);
    cwd = tempDir('ferry-cli-');
    const config = {
      dataDir: join(cwd, 'data'),
      adminToken: ADMIN_TOKEN,
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    };
    writeFileSync(join(cwd, 'ferry.config.json'), JSON.stringify(config, null, 2));
    env = {};
  });
  after(async () => {
    await legacy?.drop();
    if (cwd) removeDataDir(cwd);
  });

  it('runs a script with the configured connection, like the Test button', async () => {
    const ok = await ferry(['test-script', 'login', '--identifier', 'Alice@Example.com', '--password-stdin'], { cwd, env, input: 'alice-legacy-pw\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^login: ok in [\d.]+ ms$/m);
    assert.match(ok.stdout, /"email": "alice@example.com"/);
    assert.match(ok.stdout, /"updatedAt": "\d{4}-\d{2}-\d{2}T/);
    assert.match(ok.stderr, /Opening the configured database…\.* done/);

    const wrong = await ferry(['test-script', 'login', '--identifier', 'bob', '--password', 'not-bobs'], { cwd, env });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^login: script_error in [\d.]+ ms\nmessage: Password is not valid!$/m);
    assert.ok(!wrong.stdout.includes('not-bobs'));

    const json = await ferry(['test-script', 'getUser', '{"query": {"email": "BOB@example.com"}}'], { cwd, env });
    assert.equal(json.code, 0, json.stderr);
    assert.match(json.stdout, /"username": "bob"/);

    writeFileSync(
      join(cwd, 'draft.js'),
      'async function listUsers(page, limit) {\n  console.log("page", page, "of", limit);\n  console.warn("careful");\n  return { totalCount: 0, list: [] };\n}\n',
    );
    const draft = await ferry(['test-script', 'listUsers', '{"page": 2, "limit": 5}', '--file', 'draft.js'], { cwd, env });
    assert.equal(draft.code, 0, draft.stderr);
    assert.match(draft.stdout, /console:\n {2}\+\d+ ms log {3}page 2 of 5\n {2}\+\d+ ms warn {2}careful/);

    const bad = await ferry(['test-script', 'login', '--identifier', 'alice'], { cwd, env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /password/);
    const noName = await ferry(['test-script'], { cwd, env });
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /Name the script to run: login, getUser/);
  });

  it('reports migration status and rotates keys on the data directory directly', async () => {
    const status = await ferry(['migration', 'status'], { cwd, env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Migrated:\s+0 of 2 legacy users \(0 %\)/);
    const json = await ferry(['migration', 'status', '--json'], { cwd, env });
    assert.equal(JSON.parse(json.stdout).legacyTotal, 2);

    const rotated = await ferry(['keys', 'rotate'], { cwd, env });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^New signing keys: [0-9a-f-]{36}, [0-9a-f-]{36}$/m);
  });

  describe('with a server running on the same data directory', () => {
    let server: TestFerry;
    before(async () => {
      const config = JSON.parse(readFileSync(join(cwd, 'ferry.config.json'), 'utf8'));
      server = await startFerry({ adminToken: ADMIN_TOKEN, connection: config.connection }, { port: await freePort(), dataDir: config.dataDir });
    });
    after(async () => {
      await server?.stop();
    });

    it('refuses to open the embedded database twice and names --url', async () => {
      assert.equal(readFileSync(join(cwd, 'data', 'ferry.pid'), 'utf8').trim(), String(process.pid));
      const refused = await ferry(['migration', 'status'], { cwd, env });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Ferry is running on the data directory .* \(pid \d+, .*ferry\.pid\).* add --url/);
      assert.equal((await ferry(['keys', 'rotate'], { cwd, env })).code, 1);
    });

    it('asks the running server through its admin API with --url and the token', async () => {
      const remote = { ...env, FERRY_ADMIN_TOKEN: ADMIN_TOKEN };
      const status = await ferry(['migration', 'status', '--url', server.url], { cwd, env: remote });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /Migrated:\s+0 of 2 legacy users/);
      assert.match(status.stderr, /Asking http:\/\/127\.0\.0\.1:\d+…\.* done/);

      const rotated = await ferry(['keys', 'rotate'], { cwd, env: { ...remote, FERRY_URL: server.url } });
      assert.equal(rotated.code, 0, rotated.stderr);
      const kids = /New signing keys: (\S+), (\S+)/.exec(rotated.stdout)!.slice(1);
      const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] };
      for (const kid of kids)
        assert.ok(
          jwks.keys.some((key) => key.kid === kid),
          'the server publishes the new keys at once',
        );

      const tested = await ferry(['test-script', 'login', '--url', server.url, '--token', ADMIN_TOKEN, '--identifier', 'bob', '--password-stdin'], {
        cwd,
        env,
        input: 'bob-legacy-pw',
      });
      assert.equal(tested.code, 0, tested.stderr);
      assert.match(tested.stdout, /"name": "Bob Kahn"/);

      const wrongToken = await ferry(['keys', 'rotate', '--url', server.url, '--token', 'wrong'], { cwd, env });
      assert.equal(wrongToken.code, 1);
      assert.match(wrongToken.stderr, /answered 401/);
      const noToken = await ferry(['migration', 'status', '--url', server.url], { cwd, env });
      assert.equal(noToken.code, 2);
      assert.match(noToken.stderr, /give its admin token with --token or FERRY_ADMIN_TOKEN/);
    });
  });
});

describe('ferry start', () => {
  it('serves as npm start does, writes the pid file, and stops cleanly on SIGTERM', async () => {
    const cwd = tempDir('ferry-start-');
    const port = await freePort();
    writeFileSync(join(cwd, 'ferry.config.json'), JSON.stringify({ port, host: '127.0.0.1', dataDir: join(cwd, 'data'), logLevel: 'warn' }));
    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd,
      env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FERRY_'))),
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let ready = false;
      // A first start creates the data directory and the demo's legacy database: 13 s was seen
      // on a loaded machine, so a minute, unless the server gives up first.
      for (const until = Date.now() + 60_000; !ready && Date.now() < until && child.exitCode === null; ) {
        ready = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (response) => response.ok,
          () => false,
        );
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(ready, 'the server answers /healthz');
      const pid = Number(readFileSync(join(cwd, 'data', 'ferry.pid'), 'utf8'));
      assert.notEqual(pid, child.pid, 'the pid is the server process, not the launcher');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(!existsSync(join(cwd, 'data', 'ferry.pid')), 'the pid file is removed on stop');
    } finally {
      child.kill('SIGKILL');
      removeDataDir(cwd);
    }
  });
});
