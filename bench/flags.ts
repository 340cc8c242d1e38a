/**
 * `node --no-node-snapshot bench/flags.ts`: Ferry started as `npm start` starts it, once per set
 * of extra node flags, side by side on their own store databases; for each, alternating, in
 * BENCH_ROUNDS rounds (default 2): migrated-user logins (whole OIDC flow, 8 at once) and then
 * refresh-token grants (16 at once), 12 s each, with the server's CPU per login or grant (from
 * /proc) and, during the refresh grants, the server's peak RSS and that of all its processes.
 * BENCH_FLAGS: a JSON object of name → flags, e.g. '{"default":[],"grow25":["--heap-growing-percent=25"]}'.
 * Used to choose the server's V8 flags (docs/memory.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase } from '../test/helpers/services.ts';
import { readStat } from './lib/proc.ts';
import { treeRss } from './lib/rss.ts';
import { type Job, machineLoad, PASSWORD, ROOT, runClient, type Server, seedLegacy, startFerry } from './lib/servers.ts';

const USERS = 200;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const variants = Object.entries(JSON.parse(process.env.BENCH_FLAGS ?? '{"start script":[]}') as Record<string, string[]>);

/** utime + stime of a process, in ms (10 ms ticks). */
const cpuMs = (pid: number) => readStat(`/proc/${pid}/stat`)!.ticks * 10;

const legacy = await createPostgresDatabase('ferry_flags_legacy');
const stores: Awaited<ReturnType<typeof createPostgresDatabase>>[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ferry-flags-'));
const servers: { name: string; server: Server; first: number }[] = [];
try {
  await seedLegacy(legacy.url, USERS * variants.length);
  for (const [index, [name, nodeFlags]] of variants.entries()) {
    const store = await createPostgresDatabase('ferry_flags_store');
    stores.push(store);
    servers.push({
      name,
      first: index * USERS,
      server: await startFerry({ root: ROOT, dir, store, legacyUrl: legacy.url, log: `ferry-flags-${index}.log`, nodeFlags }),
    });
  }
  const job = (server: Server, first: number, extra: Partial<Job>): Job => ({
    kind: 'login',
    client: server.client,
    identifier: 'user{n}@bench.example',
    password: PASSWORD,
    firstUser: first,
    users: USERS,
    unique: false,
    concurrency: 8,
    durationMs: SECONDS * 1000,
    warmupMs: 0,
    ...extra,
  });
  // Every user's first and second sign-in (a hash upgrade), not measured.
  for (const { server, first } of servers) {
    for (let i = 0; i < 2; i++) await runClient(job(server, first, { unique: true, maxOps: USERS, durationMs: 600_000 }));
  }
  const lines = [
    '| flags | round | migrated logins/s | server CPU ms per login | refresh grants/s | server CPU ms per grant | server peak MB | all processes peak MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const { name, server, first } of servers) {
      const pid = server.child.pid!;
      let cpu = cpuMs(pid);
      const logins = await runClient(job(server, first, {}));
      const loginCpu = (cpuMs(pid) - cpu) / logins.started;
      let peak = { root: 0, total: 0 };
      const timer = setInterval(() => {
        const now = treeRss(pid);
        peak = { root: Math.max(peak.root, now.root), total: Math.max(peak.total, now.total) };
      }, 200);
      cpu = cpuMs(pid);
      const grants = await runClient(job(server, first, { kind: 'refresh', concurrency: 16 }));
      clearInterval(timer);
      const grantCpu = (cpuMs(pid) - cpu) / grants.started;
      const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
      const line = `| ${name} | ${round} | ${logins.perSecond.toFixed(1)} | ${loginCpu.toFixed(1)} | ${grants.perSecond.toFixed(0)} | ${grantCpu.toFixed(2)} | ${mb(peak.root)} | ${mb(peak.total)} |`;
      process.stderr.write(`${line}\n`);
      lines.push(line);
    }
  }
  console.log(`${lines.join('\n')}\n\n${machineLoad()}`);
} finally {
  for (const { server } of servers) {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
  for (const store of stores) await store.drop();
  await legacy.drop();
  rmSync(dir, { recursive: true, force: true });
}
