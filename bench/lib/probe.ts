/**
 * What one row of the bench cost, read from the outside before and after its measured run: the
 * server's store counters (/metrics), PostgreSQL's commits for the server's store database
 * (pg_stat_database), write transactions machine-wide (the next transaction id) and the CPU time
 * of the processes involved, from /proc (utime + stime, in clock ticks).
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/** `getconf CLK_TCK` on Linux. */
const TICK_MS = 10;

/** A server under test: its process, where its store counters are read, its store database. */
export interface Target {
  pid: number;
  database: string;
  counters(): Promise<StoreCounters | undefined>;
}

export interface StoreCounters {
  queries: number;
  transactions: number;
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, and the same of the children it has waited for. */
  ticks: number;
  childTicks: number;
  /** Database a PostgreSQL backend serves, from its process title. */
  database?: string;
}

type Snapshot = Map<string, Proc>;

export interface Sample {
  counters: StoreCounters | undefined;
  commits: number;
  nextXid: number;
  procs: Snapshot;
}

/** Per login (or per grant) of one row; undefined where it could not be read. */
export interface Cost {
  requests: number;
  queries: number | undefined;
  transactions: number | undefined;
  commits: number;
  writeXacts: number;
  cpu: { server: number; children: number; postgres: number; postgresAll: number; client: number };
  /** Backends of the bench's databases that ended during the run: their CPU is not counted. */
  lostBackends: number;
}

/** The server's store counters as /metrics shows them, or undefined when it has none. */
export async function scrapeStoreCounters(url: string, token: string | undefined): Promise<StoreCounters | undefined> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) return undefined;
  const text = await response.text();
  const read = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const queries = read('ferry_store_queries_total');
  const transactions = read('ferry_store_transactions_total');
  return queries === undefined || transactions === undefined ? undefined : { queries, transactions };
}

function readProcs(): Snapshot {
  const procs: Snapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended while listed
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    // Fields from the 3rd (state) on: ppid is the 4th, utime..cstime the 14th..17th, starttime the 22nd.
    const fields = stat.slice(close + 2).split(' ');
    const proc: Proc = {
      pid: Number(entry),
      ppid: Number(fields[1]),
      comm,
      ticks: Number(fields[11]) + Number(fields[12]),
      childTicks: Number(fields[13]) + Number(fields[14]),
    };
    if (comm === 'postgres') {
      try {
        // "postgres: 15/main: user database host(port) state"
        proc.database = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split(/[\s\0]+/)[3];
      } catch {}
    }
    // The start time tells a reused pid from the process that had it.
    procs.set(`${entry}:${fields[19]}`, proc);
  }
  return procs;
}

export function createProbe(options: { adminUrl: string; benchDatabases: () => string[] }) {
  const admin = new pg.Client({ connectionString: options.adminUrl });
  const connected = admin.connect();
  /** What one scrape of /metrics itself adds to the store counters (its gauges may query). */
  const scrapeCost = new Map<Target, StoreCounters>();

  async function pgCounters(database: string): Promise<{ commits: number; nextXid: number }> {
    await connected;
    await admin.query('select pg_stat_clear_snapshot()');
    const { rows } = await admin.query<{ commits: string; next: string }>(
      'select (select xact_commit from pg_stat_database where datname = $1) as commits, pg_snapshot_xmax(pg_current_snapshot())::text as next',
      [database],
    );
    return { commits: Number(rows[0]?.commits ?? 0), nextXid: Number(rows[0]?.next ?? 0) };
  }

  async function sample(target: Target): Promise<Sample> {
    if (!scrapeCost.has(target)) {
      // The least of a few differences: a background job may query between two scrapes.
      const scrapes = [await target.counters(), await target.counters(), await target.counters()];
      const [a, b, c] = scrapes;
      if (a && b && c) {
        scrapeCost.set(target, {
          queries: Math.min(b.queries - a.queries, c.queries - b.queries),
          transactions: Math.min(b.transactions - a.transactions, c.transactions - b.transactions),
        });
      }
    }
    const counters = await target.counters();
    const { commits, nextXid } = await pgCounters(target.database);
    return { counters, commits, nextXid, procs: readProcs() };
  }

  function cost(target: Target, before: Sample, after: Sample, logins: number, client: { requests: number; cpuMs: number }): Cost {
    const per = (n: number) => n / Math.max(1, logins);
    const ms = (ticks: number) => per(ticks * TICK_MS);
    const delta = (keep: (proc: Proc) => boolean) => {
      let ticks = 0;
      for (const [key, proc] of after.procs) if (keep(proc)) ticks += proc.ticks - (before.procs.get(key)?.ticks ?? 0);
      return ticks;
    };
    const ended = (keep: (proc: Proc) => boolean) => [...before.procs].filter(([key, proc]) => keep(proc) && !after.procs.has(key)).map(([, proc]) => proc);
    const server = [...after.procs.values()].find((proc) => proc.pid === target.pid);
    const serverBefore = [...before.procs.values()].find((proc) => proc.pid === target.pid);
    // Children that ended and were waited for are in the server's child ticks, their whole life long.
    const isChild = (proc: Proc) => proc.ppid === target.pid;
    const reaped = (server?.childTicks ?? 0) - (serverBefore?.childTicks ?? 0) - ended(isChild).reduce((sum, proc) => sum + proc.ticks + proc.childTicks, 0);
    const benchDatabases = new Set(options.benchDatabases());
    const isBackend = (proc: Proc) => proc.comm === 'postgres' && proc.database !== undefined && benchDatabases.has(proc.database);
    const isPostgres = (proc: Proc) => proc.comm === 'postgres';
    // The postmaster (the postgres process whose parent is not one) holds the ticks of the ended ones.
    const postmaster = (snapshot: Snapshot) => {
      const byPid = new Map([...snapshot.values()].map((proc) => [proc.pid, proc]));
      return [...snapshot.values()].find((proc) => isPostgres(proc) && byPid.get(proc.ppid)?.comm !== 'postgres');
    };
    const masterAfter = postmaster(after.procs);
    const masterBefore = postmaster(before.procs);
    const pgReaped =
      masterAfter && masterBefore && masterAfter.pid === masterBefore.pid
        ? masterAfter.childTicks - masterBefore.childTicks - ended(isPostgres).reduce((sum, proc) => sum + proc.ticks + proc.childTicks, 0)
        : 0;
    const scrape = scrapeCost.get(target);
    return {
      requests: per(client.requests),
      queries: before.counters && after.counters ? per(after.counters.queries - before.counters.queries - (scrape?.queries ?? 0)) : undefined,
      transactions:
        before.counters && after.counters ? per(after.counters.transactions - before.counters.transactions - (scrape?.transactions ?? 0)) : undefined,
      commits: per(after.commits - before.commits),
      writeXacts: per(after.nextXid - before.nextXid),
      cpu: {
        server: ms((server?.ticks ?? 0) - (serverBefore?.ticks ?? 0)),
        children: ms(delta(isChild) + Math.max(0, reaped)),
        postgres: ms(delta(isBackend)),
        postgresAll: ms(delta(isPostgres) + Math.max(0, pgReaped)),
        client: per(client.cpuMs),
      },
      lostBackends: ended(isBackend).length,
    };
  }

  return { sample, cost, close: () => connected.then(() => admin.end()) };
}

export type Probe = ReturnType<typeof createProbe>;
