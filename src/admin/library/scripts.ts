import { Conflict, NotFound } from '../../errors.ts';
import { SCRIPT_NAMES, SCRIPT_PARAMS, type ScriptName } from '../../connection/connection.ts';
import type { ConnectionSettings } from '../../connection/settings.ts';
import type { ScriptQueries } from '../../store/queries/scripts.ts';
import { checkScript } from './script-check.ts';

export interface ScriptSummary {
  name: ScriptName;
  /** `file` (the scripts folder), `store` (saved in Ferry) or `default` (never written: it throws GenAuth's default error). */
  origin: 'file' | 'store' | 'default';
  /** The stored version that runs, or null when it does not come from the store. */
  version: number | null;
  updatedAt: string | null;
  params: string;
}

export interface ScriptDetail extends ScriptSummary {
  source: string;
  /** True when a scripts folder is configured: the files are edited, not this copy. */
  readOnly: boolean;
  scriptsDir: string | null;
}

export interface ScriptVersion {
  version: number;
  note: string | null;
  createdAt: string;
}

/** The connection's scripts: where each comes from, its versions in Ferry's database, saving and rolling back. */
export function createScriptLibrary(deps: { settings: ConnectionSettings; queries: ScriptQueries }) {
  const { settings, queries } = deps;

  const detail = async (name: ScriptName): Promise<ScriptDetail> => {
    const connection = await settings.current();
    const { source, origin, stored } = await settings.script(name);
    return {
      name,
      origin,
      version: stored?.version ?? null,
      updatedAt: stored?.createdAt.toISOString() ?? null,
      params: SCRIPT_PARAMS[name],
      source,
      readOnly: Boolean(connection.scriptsDir),
      scriptsDir: connection.scriptsDir ?? null,
    };
  };

  const writable = async () => {
    const connection = await settings.current();
    if (connection.scriptsDir) {
      throw new Conflict(
        `The scripts are read from the folder ${connection.scriptsDir}, which is their source of truth: edit the files there (or remove connection.scriptsDir from the configuration to keep scripts in Ferry).`,
        'scripts_in_files',
      );
    }
    return connection;
  };

  return {
    async list(): Promise<ScriptSummary[]> {
      return Promise.all(SCRIPT_NAMES.map(async (name) => summary(await detail(name))));
    },

    get: detail,

    /** Saves `source` as the script's next version, once it is known to parse and define its function. */
    async save(name: ScriptName, source: string, note: string | null): Promise<ScriptDetail> {
      const connection = await writable();
      checkScript(name, source, connection.limits.maxScriptKb);
      await queries.save(connection.id, name, source, note);
      settings.forget(); // this instance runs the new version at once; the others within CACHE_MS
      return detail(name);
    },

    async versions(name: ScriptName): Promise<ScriptVersion[]> {
      const connection = await settings.current();
      const rows = await queries.history(connection.id, name);
      return rows.map((row) => ({ version: row.version, note: row.note, createdAt: row.created_at.toISOString() }));
    },

    /** Saves an old version's source as the newest version (history is never rewritten). */
    async rollback(name: ScriptName, version: number): Promise<ScriptDetail> {
      const connection = await writable();
      const old = await queries.version(connection.id, name, version);
      if (!old) throw new NotFound(`The ${name} script has no version ${version}.`, 'no_such_version');
      await queries.save(connection.id, name, old.source, `Rolled back to version ${version}`);
      settings.forget();
      return detail(name);
    },
  };
}

export type ScriptLibrary = ReturnType<typeof createScriptLibrary>;

function summary({ name, origin, version, updatedAt, params }: ScriptDetail): ScriptSummary {
  return { name, origin, version, updatedAt, params };
}
