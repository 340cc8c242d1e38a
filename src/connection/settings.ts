import type { ConnectionConfig } from '../config/schema.ts';
import { connectionSchema } from '../config/schema.ts';
import { upgradeConnectionSettings } from '../sandbox/limits.ts';
import type { KeyQueries } from '../store/queries/keys.ts';
import type { ScriptQueries } from '../store/queries/scripts.ts';
import { createFileScripts, defaultScript, type Connection, type FileScripts, type ScriptName, type ScriptSourceResult } from './connection.ts';

export const CONNECTION_ID = 'default';
const SETTING_KEY = `connection:${CONNECTION_ID}`;
/** Every instance sees a change made through the admin API (settings or scripts) within this long. */
const CACHE_MS = 2000;

/**
 * The connection as it is now: the configuration file's `connection`, with whatever the admin API
 * saved in the database on top (shared by every instance on one database).
 */
export function createConnectionSettings(deps: { config: ConnectionConfig; settings: KeyQueries; scripts: ScriptQueries; cwd?: string }) {
  let cached: { at: number; connection: Connection; files: FileScripts | undefined; stored: Map<ScriptName, Promise<ScriptSourceResult>> } | undefined;

  const load = async () => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached;
    const saved = upgradeConnectionSettings(await deps.settings.getSetting<Partial<ConnectionConfig>>(SETTING_KEY));
    const connection: Connection = { ...connectionSchema.parse({ ...deps.config, ...saved }), id: CONNECTION_ID };
    const files = connection.scriptsDir
      ? cached?.files && cached.connection.scriptsDir === connection.scriptsDir
        ? cached.files
        : createFileScripts(connection.scriptsDir, deps.cwd)
      : undefined;
    cached = { at: Date.now(), connection, files, stored: new Map() };
    return cached;
  };

  return {
    async current(): Promise<Connection> {
      return (await load()).connection;
    },

    /** The script's source: the scripts folder when there is one, else the newest stored version, else the default. */
    async script(name: ScriptName): Promise<ScriptSourceResult> {
      const { connection, files, stored } = await load();
      if (files) {
        const source = await files.get(name);
        return source === undefined ? { source: defaultScript(name), origin: 'default' } : { source, origin: 'file' };
      }
      // Read once per CACHE_MS like the settings, not on every sign-in; a failed read is not kept.
      let found = stored.get(name);
      if (!found) {
        found = deps.scripts
          .current(connection.id, name)
          .then(
            (row): ScriptSourceResult =>
              row
                ? { source: row.source, origin: 'store', stored: { version: row.version, createdAt: row.created_at } }
                : { source: defaultScript(name), origin: 'default' },
          );
        stored.set(name, found);
        found.catch(() => stored.get(name) === found && stored.delete(name));
      }
      return found;
    },

    /** Saves settings over the configuration's (admin API); every instance picks them up within CACHE_MS. */
    async save(patch: Partial<ConnectionConfig>): Promise<Connection> {
      const saved = upgradeConnectionSettings(await deps.settings.getSetting<Partial<ConnectionConfig>>(SETTING_KEY)) ?? {};
      const next = { ...saved, ...patch };
      connectionSchema.parse({ ...deps.config, ...next });
      await deps.settings.putSetting(SETTING_KEY, next);
      cached = undefined;
      return this.current();
    },

    forget(): void {
      cached = undefined;
    },
  };
}

export type ConnectionSettings = ReturnType<typeof createConnectionSettings>;
