import type { RetirementLibrary, Retirement } from '../../connection/retire.ts';
import type { Sweep, SweepStatus } from '../../connection/sweep.ts';
import type { ExecutionQueries } from '../../store/queries/executions.ts';
import type { MigrationQueries } from '../../store/queries/migration.ts';

export const PER_DAY_DAYS = 30;

export interface MigrationStatus {
  /** Accounts copied from the legacy database. */
  migrated: number;
  /** Accounts that only ever lived in Ferry (registered there). */
  local: number;
  /** Users in the legacy database, from its listUsers script; null when that cannot be known. */
  legacyTotal: number | null;
  /** Why legacyTotal is null, when a script was asked and failed. */
  legacyError: string | null;
  /** Migrated out of legacyTotal, in percent (one decimal); null when legacyTotal is unknown. */
  progress: number | null;
  /** Migrations per UTC day, the last 30 days, oldest first, every day present. */
  perDay: { day: string; count: number }[];
  /** Refused migrations by kind (conflicts: someone else already holds the identifier). */
  failures: Record<string, number>;
  /** Of `migrated`: by a sign-in (lazy migration), by a bulk import, by a sweep. */
  bySignIn: number;
  imported: number;
  swept: number;
  /** Users still only in the legacy database (legacyTotal minus migrated); null when legacyTotal is unknown. */
  remaining: number | null;
  /** The sweep of listUsers: its state, cursor and counts. */
  sweep: SweepStatus;
  /** When the legacy database was retired (the connection switched off), if it was and is still off. */
  retired: Retirement | null;
}

/** How far the lazy migration has come. */
export function createMigrationReport(deps: {
  queries: MigrationQueries;
  executions: ExecutionQueries;
  retirement: RetirementLibrary;
  sweep: Sweep;
  connectionEnabled: () => Promise<boolean>;
}) {
  return {
    async status(now = new Date()): Promise<MigrationStatus> {
      // listUsers(1, 1).totalCount, when the connection is on and the script was written.
      const [counts, days, failures, census, sweep, retired, enabled] = await Promise.all([
        deps.queries.accountCounts(),
        deps.queries.migratedPerDay(PER_DAY_DAYS),
        deps.executions.migrationFailuresByKind(),
        deps.retirement.census(),
        deps.sweep.status(),
        deps.retirement.retired(),
        deps.connectionEnabled(),
      ]);
      const total = census.legacyTotal;
      const progress = total === null ? null : total === 0 ? 100 : Math.min(100, Math.round((counts.migrated / total) * 1000) / 10);
      return {
        ...counts,
        legacyTotal: total,
        legacyError: census.legacyError,
        progress,
        perDay: fillDays(days, now),
        failures,
        bySignIn: census.bySignIn,
        imported: census.imported,
        swept: census.swept,
        remaining: census.remaining,
        sweep,
        retired: enabled ? null : (retired ?? null),
      };
    },
  };
}

export type MigrationReport = ReturnType<typeof createMigrationReport>;

function fillDays(found: readonly { day: string; count: number }[], now: Date): { day: string; count: number }[] {
  const counts = new Map(found.map((row) => [row.day, row.count]));
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: PER_DAY_DAYS }, (_, index) => {
    const day = new Date(today - (PER_DAY_DAYS - 1 - index) * 86_400_000).toISOString().slice(0, 10);
    return { day, count: counts.get(day) ?? 0 };
  });
}
