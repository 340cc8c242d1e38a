import { scriptContext, type ScriptRunner } from '../../connection/scripts.ts';
import type { ConnectionSettings } from '../../connection/settings.ts';
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
}

/** How far the lazy migration has come. */
export function createMigrationReport(deps: {
  issuer: string;
  queries: MigrationQueries;
  executions: ExecutionQueries;
  settings: ConnectionSettings;
  runner: ScriptRunner;
}) {
  /** listUsers(1, 1).totalCount, when the connection is on and the script was written. */
  const legacyTotal = async (): Promise<{ total: number | null; error: string | null }> => {
    const connection = await deps.settings.current();
    if (!connection.enabled) return { total: null, error: null };
    if ((await deps.settings.script('listUsers')).origin === 'default') return { total: null, error: null };
    const outcome = await deps.runner.run<{ totalCount?: unknown }>(connection, 'listUsers', [1, 1, scriptContext(deps.issuer, {})], { unlogged: true });
    if (!outcome.ok) return { total: null, error: `listUsers failed (${outcome.kind}): ${outcome.message}` };
    const total = Number(outcome.value?.totalCount);
    return Number.isFinite(total) && total >= 0 ? { total, error: null } : { total: null, error: 'listUsers returned no usable totalCount.' };
  };

  return {
    async status(now = new Date()): Promise<MigrationStatus> {
      const [counts, days, failures, legacy] = await Promise.all([
        deps.queries.accountCounts(),
        deps.queries.migratedPerDay(PER_DAY_DAYS),
        deps.executions.migrationFailuresByKind(),
        legacyTotal(),
      ]);
      const progress = legacy.total === null ? null : legacy.total === 0 ? 100 : Math.min(100, Math.round((counts.migrated / legacy.total) * 1000) / 10);
      return { ...counts, legacyTotal: legacy.total, legacyError: legacy.error, progress, perDay: fillDays(days, now), failures };
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
