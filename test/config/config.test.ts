import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { freePort } from '../helpers/ferry.ts';
import { runNode } from '../helpers/process.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');

/** Runs `ferry start` as a separate process and collects what it prints until it exits (or is stopped). */
function runFerry(env: Record<string, string>, cwd: string, killAfterMs = 20_000) {
  return runNode(['--no-node-snapshot', MAIN, 'start'], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, killAfterMs });
}

function folderWith(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  writeFileSync(join(dir, 'ferry.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

describe('configuration', () => {
  it('stops the start on an unknown key, naming it, with exit code 1', async () => {
    const result = await runFerry({}, folderWith({ issuer: 'http://localhost:3000', colour: 'blue' }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /colour: unknown key/);
  });

  it('stops the start on a bad issuer, naming the key and the problem', async () => {
    const result = await runFerry({}, folderWith({ issuer: 'localhost:3000/' }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /issuer: must be an http\(s\) URL/);
  });

  it('names the environment variable a bad value came from', async () => {
    const result = await runFerry({ FERRY_PORT: 'eighty' }, mkdtempSync(join(tmpdir(), 'ferry-config-')));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /port: .*\(from FERRY_PORT\)/);
  });

  it('stops the start when the database cannot be reached, saying where it looked', async () => {
    const port = await freePort();
    const result = await runFerry({ DATABASE_URL: `postgres://ferry:secret-password@127.0.0.1:${port}/ferry` }, mkdtempSync(join(tmpdir(), 'ferry-config-')));
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`could not start with PostgreSQL at 127\\.0\\.0\\.1:${port}/ferry: .*ECONNREFUSED`));
    assert.doesNotMatch(result.stderr + result.stdout, /secret-password/, 'the password never appears');
  });

  it("stops the start on client metadata oidc-provider refuses, naming the client's key", async () => {
    const client = (id: string, extra: object) => ({ client_id: id, client_secret: 'a client secret', redirect_uris: ['https://app.example/cb'], ...extra });
    const result = await runFerry(
      {},
      folderWith({ clients: [client('a', { token_endpoint_auth_method: 'bogus' }), client('b', {}), client('c', { grant_types: ['implicit'] })] }),
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /clients\[0\]\.token_endpoint_auth_method: must be 'client_secret_basic'/);
    assert.match(result.stderr, /clients\[2\]\.grant_types: /);
    assert.doesNotMatch(result.stderr, /clients\[1\]/, 'the valid client is not reported');
  });

  it('says in its start line where the console is, or that it is off, when started from a configuration file', async () => {
    for (const adminToken of ['a console token that is long enough to pass', undefined]) {
      const port = await freePort();
      const dir = folderWith({ port, dataDir: './data', ...(adminToken ? { adminToken } : {}) });
      const child = spawn(process.execPath, ['--no-node-snapshot', MAIN, 'start'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      try {
        for (let i = 0; i < 600 && !stdout.includes('ferry started') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
        const started = JSON.parse(stdout.split('\n').find((line) => line.includes('"ferry started"')) ?? '{}');
        assert.equal(started.console, adminToken ? `http://localhost:${port}/console` : 'off: set adminToken to serve the console and the admin API', stdout);
        assert.doesNotMatch(stdout, new RegExp(adminToken ?? 'never'), 'the token itself is never printed');
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('reports a file that is not JSON', async () => {
    const result = await runFerry({}, folderWith('{ "issuer": '));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not valid JSON/);
  });

  it('reads FERRY_CONFIG, then lets the environment override nested keys', () => {
    const dir = folderWith({ port: 4000, ttl: { session: 600 } });
    const { config, file } = loadConfig(
      { FERRY_CONFIG: 'ferry.config.json', FERRY_TTL__SESSION: '120', FERRY_CLIENTS: '[{"client_id":"a","redirect_uris":["https://a.example/cb"]}]' },
      dir,
    );
    assert.equal(file, join(dir, 'ferry.config.json'));
    assert.equal(config.port, 4000);
    assert.equal(config.issuer, 'http://localhost:4000');
    assert.equal(config.ttl.session, 120);
    assert.equal(config.ttl.accessToken, 3600);
    assert.equal(config.clients[0]?.client_id, 'a');
    assert.equal(config.demo, false, 'the demo is off once a configuration file is used');
  });

  it('leaves alone the FERRY_* variables Ferry reads for other purposes, and refuses other unknown ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
    const others = {
      FERRY_URL: 'http://127.0.0.1:3000',
      FERRY_TEST_PG_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      FERRY_TEST_CHROMIUM: '/usr/bin/chromium',
    };
    const { config } = loadConfig({ ...others, FERRY_ADMIN_TOKEN: 'an admin token that is long enough to pass' }, dir);
    assert.equal(config.adminToken, 'an admin token that is long enough to pass', "the CLI's FERRY_ADMIN_TOKEN is the adminToken key");
    assert.throws(() => loadConfig({ ...others, FERRY_COLOUR: 'blue' }, dir), /colour: unknown key \(from FERRY_COLOUR\)/);
  });

  it('runs the demo with no configuration at all', () => {
    const { config, file } = loadConfig({}, mkdtempSync(join(tmpdir(), 'ferry-config-')));
    assert.equal(file, undefined);
    assert.equal(config.demo, true);
    assert.equal(config.issuer, 'http://localhost:3000');
    assert.equal(config.port, 3000);
  });

  it('sends prepared statements to PostgreSQL unless FERRY_DATABASE_PREPARED_STATEMENTS=false says not to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
    assert.equal(loadConfig({}, dir).config.databasePreparedStatements, true);
    assert.equal(loadConfig({ FERRY_DATABASE_PREPARED_STATEMENTS: 'false' }, dir).config.databasePreparedStatements, false);
    assert.throws(
      () => loadConfig({ FERRY_DATABASE_PREPARED_STATEMENTS: 'sometimes' }, dir),
      /databasePreparedStatements.*FERRY_DATABASE_PREPARED_STATEMENTS/s,
    );
  });

  it('refuses a short admin token and a client without redirect URIs', () => {
    assert.throws(
      () => loadConfig({ FERRY_ADMIN_TOKEN: 'short', FERRY_CLIENTS: '[{"client_id":"a"}]' }, mkdtempSync(join(tmpdir(), 'ferry-config-'))),
      (error: Error) => /adminToken: must be at least 32 characters/.test(error.message) && /clients\[0\]\.redirect_uris/.test(error.message),
    );
  });

  it('refuses pkce_optional on a public client, which has no secret to fall back on', () => {
    const client = { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost/cb'], pkce_optional: true };
    assert.throws(
      () => loadConfig({ FERRY_CLIENTS: JSON.stringify([client]) }, mkdtempSync(join(tmpdir(), 'ferry-config-'))),
      /clients\[0\]\.pkce_optional: a public client/,
    );
  });

  it('starts with no configuration, prints how to try it, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--no-node-snapshot', MAIN], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: String(port) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      for (let i = 0; i < 600 && !stdout.includes('Try it') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(stdout, new RegExp(`open http://localhost:${port}/demo`), stderr);
      assert.match(
        stdout,
        /Starting Ferry: creating its embedded databases in .*first start only[\s\S]*Ferry is running at/,
        'a progress line before the long first start',
      );
      assert.match(stdout, /"msg":"starting: creating the embedded database/);
      assert.match(stdout, new RegExp(`"console":"http://localhost:${port}/console"`));
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready', database: 'pglite' });
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(stdout, /"msg":"shutting down"/);
    } finally {
      // Never leave a server behind, whatever failed above.
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
