/**
 * `npm run bench`: every row measured in this run, on this machine, side by side; ratios are
 * between rows of the same run. Writes the tables to bench/RESULTS.md: throughput and latency,
 * then what each login cost (HTTP requests, store queries, PostgreSQL commits, CPU by process).
 * `npm run bench -- --compare <git-ref>` runs Ferry's login rows for another commit and this
 * checkout back to back instead (bench/compare.ts).
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { ARGON2_DEFAULTS } from '../src/accounts/passwords.ts';
import { createLogger } from '../src/log.ts';
import { createSandbox } from '../src/sandbox/index.ts';
import { createPostgresDatabase, PG_ADMIN_URL, postgresReachable } from '../test/helpers/services.ts';
import { compare } from './compare.ts';
import { costTable } from './lib/cost-table.ts';
import { measure, type Measurement } from './lib/measure.ts';
import { createProbe } from './lib/probe.ts';
import { type RssPeak, sampleTreeRss } from './lib/rss.ts';
import {
  type Job,
  LEGACY_BCRYPT_COST,
  type Measured,
  machineLoad,
  PASSWORD,
  ROOT,
  runClient,
  type Server,
  seedLegacy,
  startBaseline,
  startCommand,
  startFerry,
} from './lib/servers.ts';

const USERS = Number(process.env.BENCH_USERS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const LOGIN_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const durationMs = SECONDS * 1000;
const warmupMs = 2000;

interface Row {
  name: string;
  result: Measurement | Measured;
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
  const baselinePgStore = await createPostgresDatabase('ferry_bench_baseline_pg');
  const databases = [legacy, store, baselineStore, baselinePgStore];
  const probe = createProbe({ adminUrl: PG_ADMIN_URL, benchDatabases: () => databases.map((database) => database.name) });
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  const children: ChildProcess[] = [];
  try {
    log('bench: creating legacy users…');
    await seedLegacy(legacy.url, USERS);
    const ferry = await startFerry({ root: ROOT, dir, store, legacyUrl: legacy.url, log: 'ferry.log', profile: Boolean(process.env.BENCH_PROFILE) });
    children.push(ferry.child);
    const baseline = await startBaseline({ dir, adapter: 'memory', store: baselineStore, legacyUrl: legacy.url });
    children.push(baseline.child);
    const baselinePg = await startBaseline({ dir, adapter: 'postgres', store: baselinePgStore, legacyUrl: legacy.url });
    children.push(baselinePg.child);

    // Each first login takes a user nobody has signed in as (`started` counts the warm-up's too);
    // with `count`, logins cycle through `count` users from `first` (each once with `once`).
    let nextUser = 0;
    const login = async (server: Server, users: { first: number; count?: number; once?: boolean }, extra: Partial<Job> = {}) => {
      const job: Job = {
        kind: 'login',
        client: server.client,
        identifier: 'user{n}@bench.example',
        password: PASSWORD,
        firstUser: users.first,
        users: users.count ?? USERS,
        unique: users.count === undefined || users.once === true,
        concurrency: LOGIN_CONCURRENCY,
        durationMs,
        warmupMs,
        ...(users.once ? { maxOps: users.count, durationMs: durationMs * 10, warmupMs: 0 } : {}),
        ...extra,
      };
      const result = await runClient(job, { probe, target: server.target });
      if (users.count === undefined) nextUser += result.started;
      return result;
    };

    // Ferry's processes (the server and the sandbox processes it forks), their resident memory
    // summed, sampled while each of Ferry's rows runs.
    const rss = sampleTreeRss(ferry.child.pid!);
    const ferryRow = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      rss.during(name);
      try {
        return await run();
      } finally {
        rss.during(undefined);
      }
    };

    // The ceilings: the password hashing alone, in this process, as many at once as libuv has
    // threads (where bcrypt and argon2 run), so every core is busy with nothing else.
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const ferryArgon2 = { type: argon2.argon2id as 2, ...ARGON2_DEFAULTS };
    log(`bench: ceiling A (bcrypt cost ${LEGACY_BCRYPT_COST})…`);
    const hash = await bcrypt.hash(PASSWORD, LEGACY_BCRYPT_COST);
    const ceilingA = await measure(() => bcrypt.compare(PASSWORD, hash), { concurrency: threads, durationMs, warmupMs });
    rows.push({ name: `A. bcrypt cost-${LEGACY_BCRYPT_COST} compare, every core (ceiling)`, result: ceilingA });
    // What a lazy first login must do (connection.adoptLegacyHashes off, the default): check the
    // legacy bcrypt hash, then create Ferry's argon2id hash of the password.
    log(`bench: ceiling C (bcrypt cost ${LEGACY_BCRYPT_COST} compare + argon2id hash)…`);
    const ceilingC = await measure(
      async () => {
        if (!(await bcrypt.compare(PASSWORD, hash))) throw new Error('bcrypt.compare refused the password');
        await argon2.hash(PASSWORD, ferryArgon2);
      },
      { concurrency: threads, durationMs, warmupMs },
    );
    rows.push({
      name: `C. bcrypt cost-${LEGACY_BCRYPT_COST} compare + argon2id hash (m=${ARGON2_DEFAULTS.memoryCost} KiB, t=${ARGON2_DEFAULTS.timeCost}, p=${ARGON2_DEFAULTS.parallelism}), every core (ceiling)`,
      result: ceilingC,
    });

    log('bench: lazy-migration first logins through Ferry…');
    const ferryUsers = nextUser;
    const first = await ferryRow('lazy-migration first logins', () => login(ferry, { first: ferryUsers }));
    rows.push({
      name: 'lazy-migration first logins (whole OIDC flow)',
      result: first,
      ratio: { of: 'C', value: first.perSecond / ceilingC.perSecond, target: 0.6 },
    });

    // Each baseline row follows Ferry's row of the same login, so that the machine's load (shared
    // cores) changes as little as possible between the two.
    log('bench: baseline (plain oidc-provider, in-memory adapter, login in host code)…');
    const base = await login(baseline, { first: nextUser });
    rows.push({ name: 'baseline: plain oidc-provider (in-memory adapter), same first login in host code', result: base });
    log('bench: baseline on PostgreSQL, first logins…');
    const pgUsers = nextUser;
    const pgFirst = await login(baselinePg, { first: pgUsers });
    rows.push({ name: 'baseline: plain oidc-provider (PostgreSQL adapter), same first login', result: pgFirst });

    log(`bench: ceiling B (argon2id m=${ARGON2_DEFAULTS.memoryCost} KiB, t=${ARGON2_DEFAULTS.timeCost})…`);
    const ferryHash = await argon2.hash(PASSWORD, ferryArgon2);
    const ceilingB = await measure(() => argon2.verify(ferryHash, PASSWORD), { concurrency: threads, durationMs, warmupMs });
    rows.push({ name: "B. Ferry's own password verification, every core (ceiling)", result: ceilingB });
    log("bench: ceiling B under npm start's environment…");
    const ceilingBStart = await ceilingUnderStart({ concurrency: threads, durationMs, warmupMs });
    rows.push({
      name: `B′. the same, in a process started with npm start's environment (${Object.entries(startCommand(ROOT).env)
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')}): what Ferry's own verifications can reach`,
      result: ceilingBStart,
      ratio: { of: 'B', value: ceilingBStart.perSecond / ceilingB.perSecond },
    });

    // A migrated account holds Ferry's argon2id hash from its first sign-in (the default; with
    // connection.adoptLegacyHashes on, it keeps the bcrypt hash until this second sign-in replaces
    // it): each migrated user's second sign-in is measured on its own, then the steady state.
    log('bench: second sign-ins of migrated users (hash upgrade)…');
    const migratedUsers = Math.max(1, first.ops);
    const upgrade = await ferryRow('second sign-ins of migrated users', () => login(ferry, { first: ferryUsers, count: migratedUsers, once: true }));
    rows.push({ name: 'second sign-in of a migrated user (once per user)', result: upgrade });
    log('bench: migrated-user logins through Ferry…');
    const again = await ferryRow('migrated-user logins', () => login(ferry, { first: ferryUsers, count: Math.max(1, Math.min(migratedUsers, upgrade.ops)) }));
    rows.push({ name: 'migrated-user logins (whole OIDC flow)', result: again, ratio: { of: 'B', value: again.perSecond / ceilingB.perSecond, target: 0.5 } });

    log('bench: baseline on PostgreSQL, migrated-user logins…');
    const pgAgain = await login(baselinePg, { first: pgUsers, count: Math.max(1, pgFirst.ops) });
    rows.push({ name: 'baseline: plain oidc-provider (PostgreSQL adapter), same migrated-user login', result: pgAgain });

    log('bench: refresh-token grants…');
    const refresh = await ferryRow('refresh-token grants', () =>
      login(ferry, { first: ferryUsers, count: migratedUsers }, { kind: 'refresh', concurrency: 16 }),
    );
    rows.push({ name: 'refresh-token grants (with rotation)', result: refresh, ratio: { of: '500/s', value: refresh.perSecond / 500, target: 1 } });

    log("bench: getUser written the seeds' way vs a pooled host query…");
    const { scripted, direct } = await getUserRows(legacy.url);
    rows.push({
      name: "getUser the seeds' way (new Client, connect, query, end)",
      result: scripted,
      // Information only (issue #15 retired its 0.8 target): a fresh context per execution is a security property.
      ratio: { of: 'pooled', value: scripted.perSecond / direct.perSecond },
    });
    rows.push({ name: 'pooled host query (pg.Pool), same query', result: direct });

    print(
      [
        {
          name: `first logins through Ferry vs the bcrypt-only ceiling A (what a first login costs with connection.adoptLegacyHashes on)`,
          value: first.perSecond / ceilingA.perSecond,
          of: 'A',
        },
        { name: 'first logins through Ferry vs the in-memory baseline', value: first.perSecond / base.perSecond, of: 'baseline', target: 0.95 },
        { name: 'first logins through Ferry vs the PostgreSQL baseline', value: first.perSecond / pgFirst.perSecond, of: 'PostgreSQL baseline' },
        {
          name: "Ferry's migrated logins vs the PostgreSQL baseline doing the same login",
          value: again.perSecond / pgAgain.perSecond,
          of: 'PostgreSQL baseline',
          target: 0.9,
        },
        {
          name: "the same by CPU: the PostgreSQL baseline's CPU ms per migrated login ÷ Ferry's (what the rate ratio would be if CPU were the only limit)",
          value: cpuSum(pgAgain) / cpuSum(again),
          of: 'PostgreSQL baseline',
        },
      ],
      { server: peakRss(ferry.child.pid!), tree: rss.stop() },
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
    await probe.close();
    for (const database of databases) await database.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
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

/** Ceiling B measured in a child process with the variables and node flags `npm start` gives Ferry. */
function ceilingUnderStart(options: { concurrency: number; durationMs: number; warmupMs: number }): Promise<Measurement> {
  const start = startCommand(ROOT);
  // Every node flag before the entry module (flags may take values: --import <module>).
  const flags = start.args.slice(
    0,
    start.args.findIndex((arg) => arg.endsWith('.ts')),
  );
  const env = { ...process.env, ...start.env };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, join(ROOT, 'bench', 'ceiling.ts'), JSON.stringify(options)], { env }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as Measurement),
    );
  });
}

/** CPU ms per login of every process measured: what a login costs when the cores are the limit. */
function cpuSum(result: Measured): number {
  const cpu = result.cost?.cpu;
  return cpu ? cpu.server + cpu.children + cpu.postgres + cpu.client : Number.NaN;
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

interface Comparison {
  name: string;
  value: number;
  of: string;
  target?: number;
}

function print(comparisons: Comparison[], memory: { server: number; tree: RssPeak | undefined }) {
  const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
  const lines = [
    `# Ferry benchmark`,
    '',
    `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${SECONDS} s per row after ${warmupMs / 1000} s of warm-up; login rows at concurrency ${LOGIN_CONCURRENCY}; ${machineLoad()}.`,
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
  let number = rows.length;
  for (const comparison of comparisons) {
    const target = comparison.target !== undefined ? `≥ ${comparison.target}` : '';
    const met = comparison.target !== undefined ? (comparison.value >= comparison.target ? 'yes' : '**no**') : '';
    lines.push(`| ${++number} | ${comparison.name} | | | | | ${fmt(comparison.value, 2)} × ${comparison.of} | ${target} | ${met} |`);
  }
  const mb = (bytes: number) => bytes / 1024 / 1024;
  const server = mb(memory.server);
  lines.push(
    `| ${++number} | peak RSS of Ferry's server process alone (its VmHWM, whole run) | ${fmt(server, 0)} MB | | | | | ≤ 300 MB | ${server <= 300 ? 'yes' : '**no**'} |`,
  );
  const tree = memory.tree;
  const total = tree ? mb(tree.total) : Number.NaN;
  const when = tree
    ? ` (at ${tree.during}: ${tree.processes} processes, the server ${fmt(mb(tree.root), 0)} MB of it; ${tree.samples} samples)`
    : ' (not sampled)';
  lines.push(
    `| ${++number} | peak RSS of all Ferry's processes together: the server and its sandbox processes, VmRSS summed, sampled every 0.2 s during Ferry's rows${when} | ${fmt(total, 0)} MB | | | | | ≤ 400 MB | ${total <= 400 ? 'yes' : '**no**'} |`,
  );
  const costed = rows.filter((row): row is Row & { result: Measured } => 'cost' in row.result && row.result.cost !== undefined);
  lines.push('', ...costTable(costed.map((row) => ({ name: row.name, result: row.result }))));
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

const compareAt = process.argv.indexOf('--compare');
if (compareAt !== -1) {
  const ref = process.argv[compareAt + 1];
  if (!ref) throw new Error('--compare needs a git ref: npm run bench -- --compare <git-ref>');
  await compare(ref, { users: USERS, durationMs, warmupMs, concurrency: LOGIN_CONCURRENCY, rounds: Number(process.env.BENCH_ROUNDS ?? 2) });
} else {
  await main();
}
