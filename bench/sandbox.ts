/**
 * `npm run bench:sandbox`: what running a script in the sandbox adds to the same work done in
 * host code, measured side by side in one run: executions per second (8 at once) and latency
 * (one at a time), for a no-op script and for a getUser doing one PostgreSQL query. Scripts run
 * as the server runs them: in sandbox processes (BENCH_SANDBOX_PROCESSES, default 2 as
 * `sandboxProcesses`; 0 runs them in this process), so the IPC round trip is part of the figure.
 */
import { availableParallelism, cpus } from 'node:os';
import pg from 'pg';
import { createLogger } from '../src/log.ts';
import { createSandbox, sandboxProcessOptions } from '../src/sandbox/index.ts';
import { measure, type Measurement } from './lib/measure.ts';
import { PG_ADMIN_URL, postgresReachable } from '../test/helpers/services.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const durationMs = SECONDS * 1000;
const warmupMs = 2000;

const NOOP = 'async function getUser(query) { return null; }';
const QUERY = `async function getUser(query) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: env.DB_CONNECTION_URI });
  await client.connect();
  try {
    const result = await client.query('SELECT $1::int AS id, now() AS at', [query.id]);
    return result.rows[0] || null;
  } finally {
    client.end();
  }
}`;

await postgresReachable();
const PROCESSES = Number(process.env.BENCH_SANDBOX_PROCESSES ?? 2);
const sandbox = createSandbox({
  log: createLogger({ level: 'silent' }),
  ...sandboxProcessOptions({ sandboxProcesses: PROCESSES, sandboxProcessMaxRssMb: 1024, sandboxProcessHeapMb: 256 }, 16),
});
const pool = new pg.Pool({ connectionString: PG_ADMIN_URL, max: 8 });
const env = { DB_CONNECTION_URI: PG_ADMIN_URL };

const inSandbox = (source: string) => async (i: number) => {
  const outcome = await sandbox.run({ name: 'getUser', source, args: [{ id: i }], env });
  if (!outcome.ok) throw new Error(`${outcome.kind}: ${outcome.message}`);
};
const noopInHost = async () => null;
const queryInHost = async (i: number) => (await pool.query('SELECT $1::int AS id, now() AS at', [i])).rows[0];

interface Pair {
  name: string;
  host: { latency: Measurement; throughput: Measurement };
  sandbox: { latency: Measurement; throughput: Measurement };
}

async function pair(name: string, host: (i: number) => Promise<unknown>, script: (i: number) => Promise<unknown>): Promise<Pair> {
  process.stderr.write(`bench:sandbox: ${name}…\n`);
  return {
    name,
    host: { latency: await measure(host, { concurrency: 1, durationMs, warmupMs }), throughput: await measure(host, { concurrency: 8, durationMs, warmupMs }) },
    sandbox: {
      latency: await measure(script, { concurrency: 1, durationMs, warmupMs }),
      throughput: await measure(script, { concurrency: 8, durationMs, warmupMs }),
    },
  };
}

const pairs = [
  await pair('no-op script', noopInHost, inSandbox(NOOP)),
  await pair('getUser with one pg query (new Client each time)', queryInHost, inSandbox(QUERY)),
];
await sandbox.close();
await pool.end();

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const lines = [
  `## Sandbox benchmark`,
  '',
  `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${SECONDS} s per measurement after ${warmupMs / 1000} s of warm-up. Latency: one execution at a time; throughput: 8 at once. Scripts ran ${PROCESSES ? `in ${PROCESSES} sandbox processes` : 'in the benchmark process'}.`,
  '',
  '| work | host /s | sandbox /s | host p50 ms | sandbox p50 ms | added p50 ms | host p99 ms | sandbox p99 ms | added p99 ms |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...pairs.map(
    (p) =>
      `| ${p.name} | ${fmt(p.host.throughput.perSecond, 0)} | ${fmt(p.sandbox.throughput.perSecond, 0)} | ${fmt(p.host.latency.p50, 3)} | ${fmt(p.sandbox.latency.p50, 3)} | ${fmt(p.sandbox.latency.p50 - p.host.latency.p50, 3)} | ${fmt(p.host.latency.p99, 3)} | ${fmt(p.sandbox.latency.p99, 3)} | ${fmt(p.sandbox.latency.p99 - p.host.latency.p99, 3)} |`,
  ),
];
const noop = pairs[0]!;
const addedP50 = noop.sandbox.latency.p50 - noop.host.latency.p50;
const addedP99 = noop.sandbox.latency.p99 - noop.host.latency.p99;
lines.push(
  '',
  `Target for the no-op script: added p50 ≤ 1 ms (${fmt(addedP50, 3)}: ${addedP50 <= 1 ? 'met' : '**not met**'}), added p99 ≤ 5 ms (${fmt(addedP99, 3)}: ${addedP99 <= 5 ? 'met' : '**not met**'}).`,
);
const errors = pairs.flatMap((p) =>
  [p.sandbox.latency, p.sandbox.throughput].filter((m) => m.errors > 0).map((m) => `- ${p.name}: ${m.errors} errors, first: ${m.firstError}`),
);
if (errors.length) lines.push('', 'Errors:', ...errors);
process.stdout.write(`${lines.join('\n')}\n`);
