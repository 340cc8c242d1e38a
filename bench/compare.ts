/**
 * `npm run bench -- --compare <git-ref>`: Ferry's login rows for the commit <git-ref> ("old") and
 * for this checkout ("new"), measured back to back on this machine, alternating old, new, old,
 * new (BENCH_ROUNDS rounds, default 2), because the machine's own speed varies by more than the
 * changes being judged. The old commit is checked out in a temporary git worktree, given this
 * checkout's node_modules when its package-lock.json is the same (else `npm ci` there), started as
 * its own `npm start` starts it, and removed afterwards. Both servers run side by side on their
 * own store databases and share the legacy database (disjoint users). Prints both figures, the
 * new/old ratio and the per-login cost of each; also writes it to bench/out/compare.md.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPostgresDatabase, PG_ADMIN_URL, postgresReachable } from '../test/helpers/services.ts';
import type { Cost } from './lib/probe.ts';
import { createProbe } from './lib/probe.ts';
import { type RssPeak, sampleTreeRss } from './lib/rss.ts';
import { type Job, machineLoad, type Measured, PASSWORD, ROOT, runClient, type Server, seedLegacy, startFerry } from './lib/servers.ts';

interface Options {
  users: number;
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  rounds: number;
}

interface Side {
  label: 'old' | 'new';
  server: Server;
  /** Users this side migrated in its first round: its migrated-user and refresh rows use them. */
  migrated: { first: number; count: number };
  /** Resident memory of its server and sandbox processes together, sampled while its rows run. */
  rss: ReturnType<typeof sampleTreeRss>;
}

/** Migrated users a side cycles through: enough to spread over the connections, few to upgrade. */
const MIGRATED_USERS = 200;
const ROWS = ['lazy-migration first logins', 'migrated-user logins', 'refresh-token grants'] as const;
const log = (line: string) => process.stderr.write(`${line}\n`);
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

export async function compare(ref: string, options: Options): Promise<void> {
  await postgresReachable();
  let oldCommit: string;
  try {
    oldCommit = git('rev-parse', '--short', '--verify', '--quiet', `${ref}^{commit}`);
  } catch {
    log(`bench: --compare ${ref}: no such commit in this repository`);
    process.exit(2);
  }
  const newCommit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' with uncommitted changes' : ''}`;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-compare-'));
  const tree = join(dir, 'old');
  log(`bench: checking out ${ref} (${oldCommit}) in ${tree}…`);
  git('worktree', 'add', '--detach', tree, oldCommit);
  const legacy = await createPostgresDatabase('ferry_bench_legacy');
  const stores = { old: await createPostgresDatabase('ferry_bench_store_old'), new: await createPostgresDatabase('ferry_bench_store_new') };
  const databases = [legacy, stores.old, stores.new];
  const probe = createProbe({ adminUrl: PG_ADMIN_URL, benchDatabases: () => databases.map((database) => database.name) });
  const children: ChildProcess[] = [];
  try {
    provideNodeModules(tree);
    log('bench: creating legacy users…');
    await seedLegacy(legacy.url, options.users);
    const servers = {
      old: await startFerry({ root: tree, dir, store: stores.old, legacyUrl: legacy.url, log: 'ferry-old.log' }),
      new: await startFerry({ root: ROOT, dir, store: stores.new, legacyUrl: legacy.url, log: 'ferry.log' }),
    };
    children.push(servers.old.child, servers.new.child);
    const sides: Side[] = (['old', 'new'] as const).map((label) => ({
      label,
      server: servers[label],
      migrated: { first: 0, count: 1 },
      rss: sampleTreeRss(servers[label].child.pid!),
    }));
    const job = (side: Side, extra: Partial<Job>): Job => ({
      kind: 'login',
      client: side.server.client,
      identifier: 'user{n}@bench.example',
      password: PASSWORD,
      firstUser: side.migrated.first,
      users: side.migrated.count,
      unique: false,
      concurrency: options.concurrency,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      ...extra,
    });
    const results = new Map<string, Record<Side['label'], Measured[]>>(ROWS.map((row) => [row, { old: [], new: [] }]));
    const alternate = async (row: (typeof ROWS)[number], run: (side: Side, round: number) => Promise<Measured>) => {
      for (let round = 0; round < options.rounds; round++) {
        for (const side of sides) {
          log(`bench: ${row}, round ${round + 1}, ${side.label}…`);
          side.rss.during(row);
          const measured = await run(side, round).finally(() => side.rss.during(undefined));
          results.get(row)![side.label].push(measured);
          log(`  ${measured.perSecond.toFixed(1)}/s, ${measured.errors} errors`);
        }
      }
    };

    let nextUser = 0;
    await alternate('lazy-migration first logins', async (side, round) => {
      const first = nextUser;
      const measured = await runClient(job(side, { firstUser: first, users: options.users, unique: true }), { probe, target: side.server.target });
      nextUser += measured.started;
      if (round === 0) side.migrated = { first, count: Math.max(1, Math.min(MIGRATED_USERS, measured.ops)) };
      return measured;
    });
    // Not measured: each migrated user's second sign-in (a hash upgrade with adoptLegacyHashes on).
    for (const side of sides) {
      log(`bench: second sign-ins of ${side.migrated.count} migrated users, ${side.label}…`);
      await runClient(job(side, { unique: true, maxOps: side.migrated.count, durationMs: options.durationMs * 20, warmupMs: 0 }));
    }
    await alternate('migrated-user logins', (side) => runClient(job(side, {}), { probe, target: side.server.target }));
    await alternate('refresh-token grants', (side) => runClient(job(side, { kind: 'refresh', concurrency: 16 }), { probe, target: side.server.target }));

    const memory = { old: sides[0]!.rss.stop(), new: sides[1]!.rss.stop() };
    const text = table(results, memory, { oldCommit, newCommit, ref, options });
    process.stdout.write(text);
    mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'out', 'compare.md'), text);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
    await probe.close();
    for (const database of databases) await database.drop().catch(() => {});
    removeTree(tree);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** This checkout's node_modules when the old commit locks the same packages, else a clean install. */
function provideNodeModules(tree: string): void {
  const lock = (root: string) => (existsSync(join(root, 'package-lock.json')) ? readFileSync(join(root, 'package-lock.json'), 'utf8') : undefined);
  if (lock(tree) !== undefined && lock(tree) === lock(ROOT)) {
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(tree, 'node_modules'));
    return;
  }
  log('bench: the old commit locks other packages: npm ci in its worktree…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: tree, stdio: ['ignore', 2, 2] });
}

function removeTree(tree: string): void {
  try {
    // The link first, so that nothing can follow it into the node_modules it points to.
    if (lstatSync(join(tree, 'node_modules'), { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(join(tree, 'node_modules'));
    git('worktree', 'remove', '--force', tree);
  } catch (error) {
    log(`bench: could not remove the worktree ${tree}: ${(error as Error).message}`);
    git('worktree', 'prune');
  }
}

function meanCost(costs: (Cost | undefined)[]): Cost | undefined {
  const all = costs.filter((cost): cost is Cost => cost !== undefined);
  if (!all.length) return undefined;
  const mean = (pick: (cost: Cost) => number | undefined) => {
    const values = all.map(pick);
    return values.includes(undefined) ? undefined : (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  };
  const cpu = (pick: (cpu: Cost['cpu']) => number) => mean((cost) => pick(cost.cpu))!;
  return {
    requests: mean((cost) => cost.requests)!,
    queries: mean((cost) => cost.queries),
    transactions: mean((cost) => cost.transactions),
    commits: mean((cost) => cost.commits)!,
    writeXacts: mean((cost) => cost.writeXacts)!,
    cpu: {
      server: cpu((c) => c.server),
      children: cpu((c) => c.children),
      postgres: cpu((c) => c.postgres),
      postgresAll: cpu((c) => c.postgresAll),
      client: cpu((c) => c.client),
    },
    lostBackends: all.reduce((sum, cost) => sum + cost.lostBackends, 0),
  };
}

function table(
  results: Map<string, Record<'old' | 'new', Measured[]>>,
  memory: Record<'old' | 'new', RssPeak | undefined>,
  run: { oldCommit: string; newCommit: string; ref: string; options: Options },
): string {
  const fmt = (n: number | undefined, digits = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–');
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const pair = (old: Cost | undefined, neu: Cost | undefined, pick: (cost: Cost) => number | undefined) =>
    `${fmt(old && pick(old))} → ${fmt(neu && pick(neu))}`;
  const cpuSum = (cost: Cost) => cost.cpu.server + cost.cpu.children + cost.cpu.postgres + cost.cpu.client;
  const lines = [
    `## Ferry A/B: ${run.ref === run.oldCommit ? run.ref : `${run.ref} (${run.oldCommit})`} (old) vs this checkout (${run.newCommit}, new)`,
    '',
    `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${run.options.rounds} rounds of old then new, ${run.options.durationMs / 1000} s per measurement after ${run.options.warmupMs / 1000} s of warm-up; logins at concurrency ${run.options.concurrency}, refresh grants at 16; ${machineLoad()}. Cost columns: per login (per grant), mean of the rounds, old → new.`,
    '',
    '| row | old /s, each round | new /s, each round | old /s | new /s | new/old | errors old/new | HTTP requests | store queries | PG commits | PG write xacts | CPU ms server | CPU ms sandbox | CPU ms PG backends | CPU ms sum |',
    '|---|---|---|---:|---:|---:|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [row, sides] of results) {
    const old = mean(sides.old.map((m) => m.perSecond));
    const neu = mean(sides.new.map((m) => m.perSecond));
    const costs = { old: meanCost(sides.old.map((m) => m.cost)), new: meanCost(sides.new.map((m) => m.cost)) };
    const errors = (list: Measured[]) => list.reduce((sum, m) => sum + m.errors, 0);
    lines.push(
      `| ${row} | ${sides.old.map((m) => fmt(m.perSecond)).join(', ')} | ${sides.new.map((m) => fmt(m.perSecond)).join(', ')} | ${fmt(old)} | ${fmt(neu)} | ${fmt(neu / old, 2)} | ${errors(sides.old)}/${errors(sides.new)} | ${[
        (c: Cost) => c.requests,
        (c: Cost) => c.queries,
        (c: Cost) => c.commits,
        (c: Cost) => c.writeXacts,
        (c: Cost) => c.cpu.server,
        (c: Cost) => c.cpu.children,
        (c: Cost) => c.cpu.postgres,
        cpuSum,
      ]
        .map((pick) => pair(costs.old, costs.new, pick))
        .join(' | ')} |`,
    );
  }
  const mb = (peak: RssPeak | undefined) =>
    peak
      ? `${fmt(peak.total / 1024 / 1024, 0)} MB (at ${peak.during}, ${peak.processes} processes, the server ${fmt(peak.root / 1024 / 1024, 0)} MB of it)`
      : '–';
  lines.push(
    '',
    `Peak RSS of all Ferry's processes together (the server and its sandbox processes, VmRSS summed, sampled every 0.2 s during the side's measured rows; target ≤ 400 MB): old ${mb(memory.old)}, new ${mb(memory.new)}.`,
    '',
    "The cost columns are read as in bench/RESULTS.md's second table (see its notes); store queries show – for a commit without the store counters. Ferry's logs: bench/out/ferry-old.log and bench/out/ferry.log.",
  );
  return `${lines.join('\n')}\n`;
}
