import type { Cost } from './probe.ts';
import type { Measured } from './servers.ts';

const fmt = (n: number | undefined, digits = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–');

/** The per-login cost columns of a row, for the tables of bench/run.ts and bench/compare.ts. */
export function costCells(cost: Cost | undefined): string[] {
  if (!cost) return Array.from({ length: 11 }, () => '–');
  const sum = cost.cpu.server + cost.cpu.children + cost.cpu.postgres + cost.cpu.client;
  return [
    fmt(cost.requests),
    fmt(cost.queries),
    fmt(cost.transactions),
    fmt(cost.commits),
    fmt(cost.writeXacts),
    fmt(cost.cpu.server),
    fmt(cost.cpu.children),
    fmt(cost.cpu.postgres),
    fmt(cost.cpu.client),
    fmt(sum),
    fmt(cost.cpu.postgresAll),
  ];
}

export const COST_HEADER =
  'HTTP requests | store queries | store transactions | PG commits | PG write xacts | CPU ms server | CPU ms sandbox processes | CPU ms PG backends | CPU ms load client | CPU ms sum | CPU ms PG, every process';

/** What each measured login (each grant, for refresh) cost, with how each figure was read. */
export function costTable(rows: { name: string; result: Measured }[]): string[] {
  const lost = rows.filter((row) => row.result.cost && row.result.cost.lostBackends > 0);
  return [
    '### What one login cost (measured run only, per login; per grant for refresh)',
    '',
    `| measurement | counted | ${COST_HEADER} |`,
    `|---|---:|${'---:|'.repeat(11)}`,
    ...rows.map((row) => `| ${row.name} | ${row.result.ops} | ${costCells(row.result.cost).join(' | ')} |`),
    '',
    '- Read after the warm-up, while no request was in flight, and again after the run; divided by the logins of the run.',
    "- HTTP requests: sent by the load client (bench/lib/http.ts), redirects followed one by one as a browser does. Store queries and transactions: the server's `ferry_store_queries_total` / `ferry_store_transactions_total` from /metrics (the baselines count their own store pool's queries), less what one scrape of /metrics adds; queries to the legacy database are not in them.",
    "- PG commits: `xact_commit` of the server's store database in `pg_stat_database`, read by another connection after `pg_stat_clear_snapshot()`. PostgreSQL 15 publishes a backend's counts when its next statement comes at least a second after its last report (an idle backend was seen to hold them for 30 s), so up to about a second of each pooled connection's commits moves from one edge of the run to the other; under steady load the two edges roughly cancel. PG write xacts: transaction ids assigned on the whole server (`pg_current_snapshot()`'s xmax), exact and without lag, but they include any other database's writes meanwhile (other sessions' tests).",
    "- CPU: utime + stime from /proc/<pid>/stat (10 ms ticks). Server: the server process, all threads. Sandbox processes: its child processes, those that ended and were waited for included. PG backends: the postgres processes whose title names one of the bench's databases (store, legacy, baselines); a backend that ended during the run is lost. Load client: `process.cpuUsage()` of the client process. Sum: those four. PG, every process: every postgres process on the machine (WAL writer, checkpointer, other sessions' backends), ended ones included through the postmaster's children time.",
    ...(lost.length
      ? [
          `- Backends of the bench's databases that ended during a run (mostly pools closing connections left idle while another server was measured); what they used during the run is missing from the PG backends column, not from the every-process one: ${lost.map((row) => `${row.name}: ${row.result.cost!.lostBackends}`).join('; ')}.`,
        ]
      : []),
  ];
}
