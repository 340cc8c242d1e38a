/**
 * The parts bench/run.ts and bench/compare.ts share: the legacy users, Ferry and the baselines
 * started as child processes, and the load client run as one, with a row's cost read around its
 * measured run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { freePort } from '../../test/helpers/ferry.ts';
import type { Client } from './flow.ts';
import type { Measurement } from './measure.ts';
import { type Cost, type Probe, scrapeStoreCounters, type Target } from './probe.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const PASSWORD = 'bench-password-1';
/** The bcrypt cost of every legacy user's hash (a common default): what a lazy first login compares. */
export const LEGACY_BCRYPT_COST = 10;
const CLIENT_SECRET = 'bench-secret-bench-secret';

const loadAtStart = loadavg()[0]!;

/** The machine's 1-minute load average when the bench started and now: other work slows every row. */
export function machineLoad(): string {
  return `load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`;
}

export interface Server {
  client: Client;
  child: ChildProcess;
  target: Target;
}

export async function seedLegacy(url: string, users: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(readFileSync(join(ROOT, 'hooks', 'templates', 'postgres', 'schema.sql'), 'utf8'));
  // One bcrypt hash for every user: comparing costs the same, creating 20,000 does not.
  const hash = await bcrypt.hash(PASSWORD, LEGACY_BCRYPT_COST);
  await client.query(
    `insert into users (email, username, name, password, email_verified)
     select 'user' || n || '@bench.example', 'user' || n, 'Bench User ' || n, $1, true from generate_series(0, $2 - 1) as n`,
    [hash, users],
  );
  await client.end();
}

/**
 * Ferry from the checkout at `root`, started exactly as its `npm start` starts it (the start
 * script's variables and node flags), in lazy migration from the legacy database, metrics on.
 */
export async function startFerry(options: {
  root: string;
  dir: string;
  store: { name: string; url: string };
  legacyUrl: string;
  log: string;
  profile?: boolean;
  /** Node flags to add to the start script's (experiments). */
  nodeFlags?: string[];
}): Promise<Server> {
  const port = await freePort();
  const client: Client = { issuer: `http://127.0.0.1:${port}`, clientId: 'bench', clientSecret: CLIENT_SECRET, redirectUri: `http://127.0.0.1:${port}/cb` };
  const metricsToken = randomBytes(16).toString('hex');
  // A directory of its own (its ./ferry.config.json and data): old checkouts read no FERRY_CONFIG.
  const cwd = join(options.dir, `ferry-${port}`);
  mkdirSync(cwd);
  writeFileSync(
    join(cwd, 'ferry.config.json'),
    JSON.stringify({
      issuer: client.issuer,
      port,
      host: '127.0.0.1',
      databaseUrl: options.store.url,
      logLevel: 'warn',
      metrics: true,
      metricsToken,
      clients: [{ client_id: 'bench', client_secret: CLIENT_SECRET, redirect_uris: [client.redirectUri], skip_consent: true }],
      connection: {
        enabled: true,
        mode: 'LAZY_MIGRATION',
        env: { DB_CONNECTION_URI: options.legacyUrl },
        scriptsDir: join(options.root, 'hooks', 'templates', 'postgres'),
      },
    }),
  );
  const start = startCommand(options.root);
  // BENCH_PROFILE=1: a CPU profile of Ferry's main thread over the whole run, in bench/out/.
  if (options.nodeFlags) start.args.unshift(...options.nodeFlags);
  if (options.profile) start.args.unshift('--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'out')}`);
  // Ferry's own log (level warn) is kept beside the results: it says why a row had errors.
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  const log = openSync(join(ROOT, 'bench', 'out', options.log), 'w');
  const child = await startChild(start.args, cwd, `${client.issuer}/readyz`, start.env, log);
  return {
    client,
    child,
    target: { pid: child.pid!, database: options.store.name, counters: () => scrapeStoreCounters(`${client.issuer}/metrics`, metricsToken) },
  };
}

/** Plain oidc-provider with the same login in host code (bench/baseline-provider.ts). */
export async function startBaseline(options: {
  dir: string;
  adapter: 'memory' | 'postgres';
  store: { name: string; url: string };
  legacyUrl: string;
}): Promise<Server> {
  const port = await freePort();
  const client: Client = { issuer: `http://127.0.0.1:${port}`, clientId: 'bench', clientSecret: CLIENT_SECRET, redirectUri: `http://127.0.0.1:${port}/cb` };
  const settings = {
    port,
    legacyUrl: options.legacyUrl,
    storeUrl: options.store.url,
    adapter: options.adapter,
    client: { client_id: 'bench', client_secret: CLIENT_SECRET, redirect_uris: [client.redirectUri] },
  };
  const child = await startChild(
    ['--no-node-snapshot', join(ROOT, 'bench', 'baseline-provider.ts'), JSON.stringify(settings)],
    options.dir,
    `${client.issuer}/.well-known/openid-configuration`,
  );
  return {
    client,
    child,
    target: {
      pid: child.pid!,
      database: options.store.name,
      counters: async () => (await fetch(`${client.issuer}/_counters`)).json() as Promise<{ queries: number; transactions: number }>,
    },
  };
}

export function startCommand(root: string): { args: string[]; env: Record<string, string> } {
  const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = script.split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0]?.includes('=')) {
    const [name, value] = words.shift()!.split('=') as [string, string];
    env[name] = value;
  }
  if (words.shift() !== 'node') throw new Error(`the start script does not run node: ${script}`);
  return { args: words.map((word) => (/^(\.\/)?src\//.test(word) ? join(root, word) : word)), env };
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
  throw new Error(`${args.find((arg) => arg.endsWith('.ts'))} did not become ready`);
}

export interface Job {
  kind: 'login' | 'refresh';
  client: Client;
  identifier: string;
  password: string;
  firstUser: number;
  users: number;
  unique: boolean;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  maxOps?: number;
}

export interface Measured extends Measurement {
  /** HTTP requests the load client sent and its CPU milliseconds, measured run only. */
  requests: number;
  cpuMs: number;
  /** Per login, with a probe. */
  cost?: Cost;
}

/**
 * Runs the load client (bench/client.ts) in its own process. With a probe, the row's cost is
 * read around the measured run: after the warm-up the client waits while the counters are read
 * (nothing in flight), and again once it has finished.
 */
export function runClient(job: Job, probe?: { probe: Probe; target: Target }): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', join(ROOT, 'bench', 'client.ts'), JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    let before: ReturnType<Probe['sample']> | undefined;
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.on('message', () => {
      before = probe ? probe.probe.sample(probe.target) : undefined;
      Promise.resolve(before).then(
        () => child.send('go'),
        (error: unknown) => {
          child.kill();
          reject(error);
        },
      );
    });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load client exited with ${code}`));
      const result = JSON.parse(out) as Measured;
      if (!probe || !before) return resolve(result);
      Promise.all([before, probe.probe.sample(probe.target)]).then(([start, end]) => {
        resolve({ ...result, cost: probe.probe.cost(probe.target, start, end, result.ops, result) });
      }, reject);
    });
  });
}
