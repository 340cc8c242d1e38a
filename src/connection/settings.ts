import { isDeepStrictEqual } from 'node:util';
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

/** Where a connection setting's value comes from (see "Configuration file or console" in the README). */
export type SettingOrigin = 'file' | 'saved';

/**
 * The connection as it is now: the configuration file's `connection`, with whatever the admin API
 * saved in the database on top (shared by every instance on one database).
 *
 * The rule, per top-level setting (enabled, mode, env, limits, egress, …): a value saved through the
 * console or the admin API takes precedence over the file's, on every instance and across restarts,
 * until it is forgotten (`forgetSaved`, the console's "Follow the configuration file"); then the
 * file's value counts again. A save that makes a setting equal to the file's value forgets it, so
 * that only real differences hide the file. `origins()` says which setting comes from where.
 */
export function createConnectionSettings(deps: { config: ConnectionConfig; settings: KeyQueries; scripts: ScriptQueries; cwd?: string }) {
  let cached:
    | { at: number; connection: Connection; files: FileScripts | undefined; stored: Map<ScriptName, Promise<ScriptSourceResult>>; savedKeys: Set<string> }
    | undefined;
  // The file's values with the schema's defaults, to compare saved values with.
  const fromFile = connectionSchema.parse(deps.config) as Record<string, unknown>;

  const load = async () => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached;
    const saved = upgradeConnectionSettings(await deps.settings.getSetting<Partial<ConnectionConfig>>(SETTING_KEY));
    const connection: Connection = { ...connectionSchema.parse({ ...deps.config, ...saved }), id: CONNECTION_ID };
    const savedKeys = new Set(Object.keys(saved ?? {}));
    const files = connection.scriptsDir
      ? cached?.files && cached.connection.scriptsDir === connection.scriptsDir
        ? cached.files
        : createFileScripts(connection.scriptsDir, deps.cwd)
      : undefined;
    cached = { at: Date.now(), connection, files, stored: new Map(), savedKeys };
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
      const merged: Record<string, unknown> = { ...saved, ...patch };
      connectionSchema.parse({ ...deps.config, ...merged });
      const next = Object.fromEntries(Object.entries(merged).filter(([key, value]) => !isDeepStrictEqual(value, fromFile[key])));
      await deps.settings.putSetting(SETTING_KEY, next);
      cached = undefined;
      return this.current();
    },

    /** For each setting of the connection, whether its value is the file's or one saved over it. */
    async origins(): Promise<Record<string, SettingOrigin>> {
      const { connection, savedKeys } = await load();
      const keys = Object.keys(connection).filter((key) => key !== 'id');
      return Object.fromEntries(keys.map((key) => [key, savedKeys.has(key) ? 'saved' : 'file']));
    },

    /** Forgets every saved value: the configuration file's count again (on every instance within CACHE_MS). */
    async forgetSaved(): Promise<Connection> {
      await deps.settings.putSetting(SETTING_KEY, {});
      cached = undefined;
      return this.current();
    },

    forget(): void {
      cached = undefined;
    },
  };
}

export type ConnectionSettings = ReturnType<typeof createConnectionSettings>;
