import { Conflict } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { KeyQueries } from '../store/queries/keys.ts';
import type { MigrationQueries } from '../store/queries/migration.ts';
import { scriptContext, type ScriptRunner } from './scripts.ts';
import type { ConnectionSettings } from './settings.ts';

const RETIRED_KEY = 'migration:retired';

/** Where the legacy users are: in Ferry by each way in, and still only in the legacy database. */
export interface MigrationCensus {
  /** Accounts made by a lazy migration (a sign-in or a password reset). */
  bySignIn: number;
  /** Accounts made by a bulk import. */
  imported: number;
  /** Accounts made by a sweep. */
  swept: number;
  /** Every account with a legacy id. */
  inFerry: number;
  /** listUsers' totalCount; null when the connection is off, listUsers unwritten or failing. */
  legacyTotal: number | null;
  legacyError: string | null;
  /** legacyTotal minus the accounts with a legacy id (never below 0); null when legacyTotal is. */
  remaining: number | null;
}

export interface Retirement {
  at: string;
  /** Users still only in the legacy database when it was retired (with `forced`), or null if unknown. */
  remaining: number | null;
  legacyTotal: number | null;
  forced: boolean;
  /** Who asked: the API, the console or the CLI. */
  by: string;
}

/**
 * Retiring the legacy database: the connection switches off (every instance sees it within the
 * settings cache), so sign-ins go to Ferry's accounts only and registration stops asking getUser.
 * Refused while users remain only in the legacy database, unless forced; a forced retirement
 * names how many were left behind, in the log and in the stored record.
 */
export function createRetirement(deps: {
  issuer: string;
  settings: ConnectionSettings;
  runner: ScriptRunner;
  queries: MigrationQueries;
  keys: KeyQueries;
  log: Logger;
}) {
  const legacyTotal = async (): Promise<{ total: number | null; error: string | null }> => {
    const connection = await deps.settings.current();
    if (!connection.enabled) return { total: null, error: null };
    if ((await deps.settings.script('listUsers')).origin === 'default') return { total: null, error: null };
    const outcome = await deps.runner.run<{ totalCount?: unknown }>(connection, 'listUsers', [1, 1, scriptContext(deps.issuer, {})], { unlogged: true });
    if (!outcome.ok) return { total: null, error: `listUsers failed (${outcome.kind}): ${outcome.message}` };
    const total = Number(outcome.value?.totalCount);
    return Number.isFinite(total) && total >= 0 ? { total, error: null } : { total: null, error: 'listUsers returned no usable totalCount.' };
  };

  const census = async (): Promise<MigrationCensus> => {
    const [origins, legacy] = await Promise.all([deps.queries.originCounts(), legacyTotal()]);
    const remaining = legacy.total === null ? null : Math.max(0, legacy.total - origins.inFerry);
    return { ...origins, legacyTotal: legacy.total, legacyError: legacy.error, remaining };
  };

  return {
    census,

    retired: () => deps.keys.getSetting<Retirement>(RETIRED_KEY),

    async retire(options: { force?: boolean | undefined; by: string }): Promise<Retirement> {
      const connection = await deps.settings.current();
      if (connection.mode === 'CUSTOM_USER_STORE' && connection.enabled)
        throw new Conflict('In CUSTOM_USER_STORE mode the users live only in the legacy database: there is nothing to retire it for.', 'custom_user_store');
      if (!connection.enabled) {
        const earlier = await deps.keys.getSetting<Retirement>(RETIRED_KEY);
        if (earlier) return earlier;
        throw new Conflict('The connection is already off: no legacy database is in use.', 'connection_off');
      }
      const found = await census();
      const force = options.force === true;
      if (found.remaining === null && !force)
        throw new Conflict(
          `Ferry cannot tell how many users are still only in the legacy database (${found.legacyError ?? 'listUsers is not written'}); retire with force to switch it off anyway.`,
          'remaining_unknown',
        );
      if (found.remaining !== null && found.remaining > 0 && !force)
        throw new Conflict(
          `${found.remaining} ${found.remaining === 1 ? 'user is' : 'users are'} still only in the legacy database and could not sign in after it is retired. Sweep or import them first, or retire with force.`,
          'users_remaining',
        );
      const record: Retirement = { at: new Date().toISOString(), remaining: found.remaining, legacyTotal: found.legacyTotal, forced: force, by: options.by };
      await deps.settings.save({ enabled: false });
      await deps.keys.putSetting(RETIRED_KEY, record);
      if (force && found.remaining !== 0)
        deps.log.warn({ ...record }, 'legacy database retired with confirmation while users remained only there: they cannot sign in any more');
      else deps.log.info({ ...record }, 'legacy database retired: every legacy user is in Ferry');
      return record;
    },
  };
}

export type RetirementLibrary = ReturnType<typeof createRetirement>;
