/**
 * `node --no-node-snapshot bench/idle.ts`: where the time of a migrated-user login goes when the
 * rate stays under what its CPU allows. Runs the bench's migrated-user login row (whole OIDC
 * flow, Ferry started as `npm start` starts it) at several concurrencies and reads, over each
 * measured run, from /proc: the machine's cores (busy, idle, stolen by the hypervisor), the CPU
 * of each of the server's threads (its main thread, libuv's pool where argon2 runs, V8's
 * workers), its sandbox processes, the PostgreSQL backends of the bench's databases and the load
 * client. Prints one table. BENCH_IDLE_CONCURRENCY (default "8,16"), BENCH_SECONDS (12),
 * UV_THREADPOOL_SIZE (passed to Ferry).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPostgresDatabase, PG_ADMIN_URL, postgresReachable } from '../test/helpers/services.ts';
import argon2 from 'argon2';
import { ARGON2_DEFAULTS } from '../src/accounts/passwords.ts';
import { measure } from './lib/measure.ts';
import { createProbe, type Probe } from './lib/probe.ts';
import { readStat } from './lib/proc.ts';
import { processTree } from './lib/rss.ts';
import { type Job, machineLoad, PASSWORD, ROOT, runClient, type Server, seedLegacy, startFerry } from './lib/servers.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const CONCURRENCIES = (process.env.BENCH_IDLE_CONCURRENCY ?? '8,16').split(',').map(Number);
const MIGRATED = 200;
const TICK_MS = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Snapshot {
  at: number;
  /** Machine-wide jiffies from /proc/stat's cpu line. */
  machine: { busy: number; idle: number; steal: number };
  /** Ticks of each thread or process (keyed by id and start time, so a reused id is another), with its group. */
  entries: Map<string, { group: string; ticks: number }>;
}

function machine(): Snapshot['machine'] {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user! + nice! + system! + irq! + softirq!, idle: idle! + iowait!, steal: steal! };
}

function snapshot(serverPid: number, databases: Set<string>): Snapshot {
  const entries: Snapshot['entries'] = new Map();
  const add = (id: string, stat: { start: string; ticks: number }, group: string) => entries.set(`${id}:${stat.start}`, { group, ticks: stat.ticks });
  for (const tid of readdirSync(`/proc/${serverPid}/task`)) {
    const stat = readStat(`/proc/${serverPid}/task/${tid}/stat`);
    if (!stat) continue;
    add(`t${tid}`, stat, Number(tid) === serverPid ? 'server: main thread (event loop)' : `server: ${stat.comm} threads`);
  }
  for (const pid of processTree(serverPid).slice(1)) {
    const stat = readStat(`/proc/${pid}/stat`);
    if (stat) add(String(pid), stat, 'sandbox processes');
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(`/proc/${entry}/stat`);
    if (stat?.comm !== 'postgres') continue;
    let database: string | undefined;
    try {
      database = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split(/[\s\0]+/)[3];
    } catch {}
    add(
      entry,
      stat,
      database && databases.has(database) ? "PostgreSQL backends of the bench's databases" : 'PostgreSQL, other processes (WAL writer, other sessions)',
    );
  }
  return { at: performance.now(), machine: machine(), entries };
}

/** CPU ms of one argon2id verify with Ferry's parameters, 2 at once (Ferry's slots on 2 cores), here and now. */
async function argon2CpuMs(): Promise<number> {
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id as 2, ...ARGON2_DEFAULTS });
  const start = process.cpuUsage();
  const result = await measure(() => argon2.verify(hash, PASSWORD), { concurrency: 2, durationMs: 3000 });
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / result.started;
}

async function main() {
  await postgresReachable();
  const legacy = await createPostgresDatabase('ferry_idle_legacy');
  const store = await createPostgresDatabase('ferry_idle_store');
  const databases = [legacy, store];
  const names = new Set(databases.map((database) => database.name));
  const probe = createProbe({ adminUrl: PG_ADMIN_URL, benchDatabases: () => [...names] });
  const dir = mkdtempSync(join(tmpdir(), 'ferry-idle-'));
  let ferry: Server | undefined;
  try {
    await seedLegacy(legacy.url, MIGRATED);
    ferry = await startFerry({ root: ROOT, dir, store, legacyUrl: legacy.url, log: 'ferry-idle.log' });
    const server = ferry;
    const job = (extra: Partial<Job>): Job => ({
      kind: 'login',
      client: server.client,
      identifier: 'user{n}@bench.example',
      password: PASSWORD,
      firstUser: 0,
      users: MIGRATED,
      unique: true,
      concurrency: 8,
      durationMs: SECONDS * 1000 * 20,
      warmupMs: 0,
      maxOps: MIGRATED,
      ...extra,
    });
    log(`idle: migrating ${MIGRATED} users (first and second sign-ins)…`);
    await runClient(job({}));
    await runClient(job({}));
    const lines = [
      `## Where a migrated-user login's time goes (bench/idle.ts)`,
      '',
      `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${SECONDS} s per run after 2 s of warm-up; Ferry's UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}. CPU as % of one core over the measured run.`,
      '',
    ];
    for (const concurrency of CONCURRENCIES) {
      log(`idle: migrated-user logins at concurrency ${concurrency}…`);
      let before: Snapshot | undefined;
      let after: Snapshot | undefined;
      // The bench's probe, with a /proc snapshot of threads and the machine taken beside each sample.
      const watching: Probe = {
        ...probe,
        sample: async (target) => {
          const sample = await probe.sample(target);
          if (before) after = snapshot(server.target.pid, names);
          else before = snapshot(server.target.pid, names);
          return sample;
        },
      };
      const result = await runClient(job({ unique: false, maxOps: undefined, durationMs: SECONDS * 1000, warmupMs: 2000, concurrency }), {
        probe: watching,
        target: server.target,
      });
      if (!before || !after) throw new Error('no samples');
      const seconds = (after.at - before.at) / 1000;
      const percent = (ticks: number) => ((ticks * TICK_MS) / 1000 / seconds) * 100;
      const jiffies = (pick: (m: Snapshot['machine']) => number) => pick(after!.machine) - pick(before!.machine);
      const all = jiffies((m) => m.busy) + jiffies((m) => m.idle) + jiffies((m) => m.steal);
      const cost = result.cost!;
      lines.push(
        `### Concurrency ${concurrency}: ${result.perSecond.toFixed(1)} logins/s, p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, ${result.errors} errors; ${cost.queries?.toFixed(1) ?? '–'} store queries and ${(cost.cpu.server + cost.cpu.children + cost.cpu.postgres + cost.cpu.client).toFixed(1)} CPU ms per login`,
        '',
        '| what | CPU, % of one core |',
        '|---|---:|',
      );
      // Each thread's or process's ticks since the first snapshot (since it started, if after);
      // one that ended in between is missing.
      const groups = new Map<string, number>();
      for (const [key, { group, ticks }] of after.entries) groups.set(group, (groups.get(group) ?? 0) + ticks - (before.entries.get(key)?.ticks ?? 0));
      const client = (result.cpuMs / 1000 / seconds) * 100;
      let ours = client;
      for (const [name, ticks] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
        ours += percent(ticks);
        lines.push(`| ${name} | ${percent(ticks).toFixed(1)} |`);
      }
      const busy = (jiffies((m) => m.busy) / all) * availableParallelism() * 100;
      lines.push(
        `| load client (process.cpuUsage) | ${client.toFixed(1)} |`,
        `| everything else on the machine (machine busy less the above: other sessions, this script) | ${(busy - ours).toFixed(1)} |`,
        `| machine: busy (every process, other sessions' included) | ${busy.toFixed(1)} |`,
        `| machine: idle | ${((jiffies((m) => m.idle) / all) * availableParallelism() * 100).toFixed(1)} |`,
        `| machine: stolen by the hypervisor | ${((jiffies((m) => m.steal) / all) * availableParallelism() * 100).toFixed(1)} |`,
        '',
      );
      const libuv = groups.get('server: libuv-worker threads') ?? 0;
      const verify = await argon2CpuMs();
      lines.push(
        `Ferry's libuv pool: ${((libuv * TICK_MS) / result.ops).toFixed(1)} CPU ms per login; one argon2id verify with Ferry's parameters, measured in this process just after (2 at once, 3 s): ${verify.toFixed(1)} CPU ms.`,
        '',
      );
    }
    lines.push(`${machineLoad()}.`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    ferry?.child.kill('SIGTERM');
    await sleep(500);
    await probe.close();
    for (const database of databases) await database.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
