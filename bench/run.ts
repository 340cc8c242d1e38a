/**
 * `npm run bench`: every row measured in this run, on this machine, side by side; ratios are
 * between rows of the same run. Writes the table to bench/RESULTS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { createLogger } from '../src/log.ts';
import { createSandbox } from '../src/sandbox/index.ts';
import { measure, type Measurement } from './lib/measure.ts';
import type { Client } from './lib/flow.ts';
import { createPostgresDatabase, postgresReachable } from '../test/helpers/services.ts';
import { freePort } from '../test/helpers/ferry.ts';

const ROOT = join(import.meta.dirname, '..');
const PASSWORD = 'bench-password-1';
const USERS = Number(process.env.BENCH_USERS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const LOGIN_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const durationMs = SECONDS * 1000;
const warmupMs = 2000;

interface Row {
  name: string;
  result: Measurement;
  unit?: string;
  ratio?: { of: string; value: number; target?: number };
}

const rows: Row[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  await postgresReachable();
  log(`bench: ${availableParallelism()} cores (${cpus()[0]?.model}), Node ${process.version}, ${SECONDS} s per row`);
  const legacy = await createPostgresDatabase('ferry_bench_legacy');
  const store = await createPostgresDatabase('ferry_bench_store');
  const baselineStore = await createPostgresDatabase('ferry_bench_baseline');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  const children: ChildProcess[] = [];
  try {
    log('bench: creating legacy users…');
    await seedLegacy(legacy.url);

    const ferryPort = await freePort();
    const ferryClient: Client = {
      issuer: `http://127.0.0.1:${ferryPort}`,
      clientId: 'bench',
      clientSecret: 'bench-secret-bench-secret',
      redirectUri: `http://127.0.0.1:${ferryPort}/cb`,
    };
    writeFileSync(
      join(dir, 'ferry.config.json'),
      JSON.stringify({
        issuer: ferryClient.issuer,
        port: ferryPort,
        host: '127.0.0.1',
        databaseUrl: store.url,
        logLevel: 'warn',
        clients: [{ client_id: 'bench', client_secret: ferryClient.clientSecret, redirect_uris: [ferryClient.redirectUri], skip_consent: true }],
        connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(ROOT, 'hooks', 'templates', 'postgres') },
      }),
    );
    const start = startCommand();
    // BENCH_PROFILE=1: a CPU profile of Ferry's main thread over the whole run, in bench/out/.
    if (process.env.BENCH_PROFILE) start.args.unshift('--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'out')}`);
    // Ferry's own log (level warn) is kept beside the results: it says why a row had errors.
    mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
    const ferryLog = openSync(join(ROOT, 'bench', 'out', 'ferry.log'), 'w');
    const ferry = await startChild(start.args, dir, `${ferryClient.issuer}/readyz`, start.env, ferryLog);
    children.push(ferry);

    const basePort = await freePort();
    const baseClient: Client = {
      issuer: `http://127.0.0.1:${basePort}`,
      clientId: 'bench',
      clientSecret: ferryClient.clientSecret,
      redirectUri: `http://127.0.0.1:${basePort}/cb`,
    };
    const baseline = await startChild(
      [
        '--no-node-snapshot',
        join(ROOT, 'bench', 'baseline-provider.ts'),
        JSON.stringify({
          port: basePort,
          legacyUrl: legacy.url,
          storeUrl: baselineStore.url,
          client: { client_id: 'bench', client_secret: baseClient.clientSecret, redirect_uris: [baseClient.redirectUri] },
        }),
      ],
      dir,
      `${baseClient.issuer}/.well-known/openid-configuration`,
    );
    children.push(baseline);

    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    log('bench: ceiling A (bcrypt cost 10)…');
    const hash = await bcrypt.hash(PASSWORD, 10);
    const ceilingA = await measure(() => bcrypt.compare(PASSWORD, hash), { concurrency: threads, durationMs, warmupMs });
    rows.push({ name: 'A. bcrypt cost-10 compare, every core (ceiling)', result: ceilingA });

    log('bench: lazy-migration first logins through Ferry…');
    let nextUser = 0;
    const first = await runClient({
      kind: 'login',
      client: ferryClient,
      identifier: 'user{n}@bench.example',
      password: PASSWORD,
      firstUser: nextUser,
      users: USERS,
      unique: true,
      concurrency: LOGIN_CONCURRENCY,
      durationMs,
      warmupMs,
    });
    // Users signed in during the warm-up and the run are migrated; the baseline takes fresh ones.
    nextUser += first.ops + Math.ceil((first.perSecond * warmupMs) / 1000) + LOGIN_CONCURRENCY * 4;
    rows.push({
      name: 'lazy-migration first logins (whole OIDC flow)',
      result: first,
      ratio: { of: 'A', value: first.perSecond / ceilingA.perSecond, target: 0.9 },
    });

    log('bench: ceiling B (argon2id 19 MiB, t=2)…');
    const ferryHash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    const ceilingB = await measure(() => argon2.verify(ferryHash, PASSWORD), { concurrency: threads, durationMs, warmupMs });
    rows.push({ name: "B. Ferry's own password verification, every core (ceiling)", result: ceilingB });

    // A migrated account holds Ferry's argon2id hash from its first sign-in (the default; with
    // connection.adoptLegacyHashes on, it keeps the bcrypt hash until this second sign-in replaces
    // it): each migrated user's second sign-in is measured on its own, then the steady state.
    log('bench: second sign-ins of migrated users (hash upgrade)…');
    const migratedUsers = Math.max(1, first.ops);
    const upgrade = await runClient({
      kind: 'login',
      client: ferryClient,
      identifier: 'user{n}@bench.example',
      password: PASSWORD,
      firstUser: 0,
      users: migratedUsers,
      unique: true,
      concurrency: LOGIN_CONCURRENCY,
      durationMs: durationMs * 10,
      warmupMs: 0,
      maxOps: migratedUsers,
    });
    rows.push({ name: 'second sign-in of a migrated user (once per user)', result: upgrade });
    log('bench: migrated-user logins through Ferry…');
    const again = await runClient({
      kind: 'login',
      client: ferryClient,
      identifier: 'user{n}@bench.example',
      password: PASSWORD,
      firstUser: 0,
      users: Math.min(migratedUsers, upgrade.ops),
      unique: false,
      concurrency: LOGIN_CONCURRENCY,
      durationMs,
      warmupMs,
    });
    rows.push({ name: 'migrated-user logins (whole OIDC flow)', result: again, ratio: { of: 'B', value: again.perSecond / ceilingB.perSecond, target: 0.9 } });

    log('bench: baseline (plain oidc-provider, login in host code)…');
    const base = await runClient({
      kind: 'login',
      client: baseClient,
      identifier: 'user{n}@bench.example',
      password: PASSWORD,
      firstUser: nextUser,
      users: USERS,
      unique: true,
      concurrency: LOGIN_CONCURRENCY,
      durationMs,
      warmupMs,
    });
    rows.push({ name: 'baseline: plain oidc-provider, same first login in host code', result: base });
    const baselineRatio = first.perSecond / base.perSecond;

    log('bench: refresh-token grants…');
    const refresh = await runClient({
      kind: 'refresh',
      client: ferryClient,
      identifier: 'user{n}@bench.example',
      password: PASSWORD,
      firstUser: 0,
      users: Math.max(1, first.ops),
      unique: false,
      concurrency: 16,
      durationMs,
      warmupMs,
    });
    rows.push({ name: 'refresh-token grants (with rotation)', result: refresh, ratio: { of: '500/s', value: refresh.perSecond / 500, target: 1 } });

    log("bench: getUser written the seeds' way vs a pooled host query…");
    const { scripted, direct } = await getUserRows(legacy.url);
    rows.push({
      name: "getUser the seeds' way (new Client, connect, query, end)",
      result: scripted,
      ratio: { of: 'pooled', value: scripted.perSecond / direct.perSecond, target: 0.8 },
    });
    rows.push({ name: 'pooled host query (pg.Pool), same query', result: direct });

    const peak = peakRss(ferry.pid!);
    print({ baselineRatio, peakMb: peak / 1024 / 1024 });
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
    for (const database of [legacy, store, baselineStore]) await database.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function seedLegacy(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(readFileSync(join(ROOT, 'hooks', 'templates', 'postgres', 'schema.sql'), 'utf8'));
  // One bcrypt cost-10 hash for every user: comparing costs the same, creating 20,000 does not.
  const hash = await bcrypt.hash(PASSWORD, 10);
  await client.query(
    `insert into users (email, username, name, password, email_verified)
     select 'user' || n || '@bench.example', 'user' || n, 'Bench User ' || n, $1, true from generate_series(0, $2 - 1) as n`,
    [hash, USERS],
  );
  await client.end();
}

/** Ferry is started exactly as `npm start` starts it: the start script's variables and node flags. */
function startCommand(): { args: string[]; env: Record<string, string> } {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = script.split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0]?.includes('=')) {
    const [name, value] = words.shift()!.split('=') as [string, string];
    env[name] = value;
  }
  if (words.shift() !== 'node') throw new Error(`the start script does not run node: ${script}`);
  return { args: words.map((word) => (word.startsWith('src/') ? join(ROOT, word) : word)), env };
}

async function startChild(
  args: string[],
  cwd: string,
  readyUrl: string,
  extraEnv: Record<string, string> = {},
  stdout: number | 'ignore' = 'ignore',
): Promise<ChildProcess> {
  const env = { PATH: process.env.PATH ?? '', ...(process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {}), ...extraEnv };
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', stdout, 'inherit'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 600 && !exited; i++) {
    if (
      await fetch(readyUrl).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${args[1]} did not become ready`);
}

function runClient(job: Record<string, unknown>): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', join(ROOT, 'bench', 'client.ts'), JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Measurement) : reject(new Error(`load client exited with ${code}`))));
  });
}

const GET_USER = `async function getUser(query) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: env.DB_CONNECTION_URI });
  await client.connect();
  try {
    const result = await client.query('SELECT id, email, name FROM users WHERE email = $1', [query.email]);
    return result.rows[0] || null;
  } finally {
    client.end();
  }
}`;

async function getUserRows(url: string) {
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 16 });
  const concurrency = 8;
  const scripted = await measure(
    async (i) => {
      const outcome = await sandbox.run({
        name: 'getUser',
        source: GET_USER,
        args: [{ email: `user${i % USERS}@bench.example` }],
        env: { DB_CONNECTION_URI: url },
      });
      if (!outcome.ok) throw new Error(outcome.message);
    },
    { concurrency, durationMs, warmupMs },
  );
  await sandbox.close();
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  const direct = await measure(
    async (i) => {
      await pool.query('SELECT id, email, name FROM users WHERE email = $1', [`user${i % USERS}@bench.example`]);
    },
    { concurrency, durationMs, warmupMs },
  );
  await pool.end();
  return { scripted, direct };
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function print(extra: { baselineRatio: number; peakMb: number }) {
  const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
  const lines = [
    `# Ferry benchmark`,
    '',
    `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${SECONDS} s per row after ${warmupMs / 1000} s of warm-up; login rows at concurrency ${LOGIN_CONCURRENCY}.`,
    '',
    '| # | measurement | per second | p50 ms | p99 ms | errors | ratio | target | met |',
    '|---|---|---:|---:|---:|---:|---|---|---|',
  ];
  rows.forEach((row, index) => {
    const ratio = row.ratio ? `${fmt(row.ratio.value, 2)} × ${row.ratio.of}` : '';
    const target = row.ratio?.target !== undefined ? `≥ ${row.ratio.target}` : '';
    const met = row.ratio?.target !== undefined ? (row.ratio.value >= row.ratio.target ? 'yes' : '**no**') : '';
    lines.push(
      `| ${index + 1} | ${row.name} | ${fmt(row.result.perSecond)} | ${fmt(row.result.p50)} | ${fmt(row.result.p99)} | ${row.result.errors} | ${ratio} | ${target} | ${met} |`,
    );
  });
  const baseMet = extra.baselineRatio >= 0.95;
  lines.push(
    `| ${rows.length + 1} | first logins through Ferry vs the baseline | | | | | ${fmt(extra.baselineRatio, 2)} × baseline | ≥ 0.95 | ${baseMet ? 'yes' : '**no**'} |`,
  );
  lines.push(
    `| ${rows.length + 2} | peak RSS of the Ferry process | ${fmt(extra.peakMb, 0)} MB | | | | | ≤ 300 MB | ${extra.peakMb <= 300 ? 'yes' : '**no**'} |`,
  );
  const errors = rows.filter((row) => row.result.errors > 0).map((row) => `- ${row.name}: ${row.result.errors} errors, first: ${row.result.firstError}`);
  if (errors.length) lines.push('', "Errors (Ferry's log of the run is in bench/out/ferry.log):", ...errors);
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  // The sandbox benchmark's section (npm run bench:sandbox) has its own run: it stays below this table.
  const file = join(ROOT, 'bench', 'RESULTS.md');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const sandboxSection = previous.indexOf('\n## Sandbox benchmark');
  writeFileSync(file, sandboxSection === -1 ? text : `${text}${previous.slice(sandboxSection)}`);
}

await main();
