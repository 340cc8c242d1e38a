import { connectionSchema, type ConnectionConfig } from '../../config/schema.ts';
import type { Connection } from '../../connection/connection.ts';
import type { ConnectionSettings, SettingOrigin } from '../../connection/settings.ts';
import type { EgressInput, LimitsInput } from '../../sandbox/index.ts';
import { envForm, maskEnv, mergeEnv, replaceEnv } from './secrets.ts';
import { invalid } from './validation.ts';

/** The connection as the admin API and console show it: secrets masked, where scripts come from. */
export interface ConnectionView {
  enabled: boolean;
  mode: ConnectionConfig['mode'];
  env: Record<string, string>;
  /** Which of GenAuth's two connection forms the variables use. */
  form: 'uri' | 'programmatic' | 'none';
  limits: ConnectionConfig['limits'];
  egress: ConnectionConfig['egress'];
  showScriptErrors: boolean;
  claimsCacheSeconds: number;
  maxConcurrentScripts: number;
  breaker: ConnectionConfig['breaker'];
  scriptsDir: string | null;
  /** `files` when a scripts folder is configured (it is the source of truth), else `store` (Ferry's database). */
  scriptsSource: 'files' | 'store';
  /** Per setting: `file` (the configuration file's value) or `saved` (saved in the console or API, over the file's). */
  sources: Record<string, SettingOrigin>;
}

export interface ConnectionChange {
  enabled?: boolean | undefined;
  mode?: ConnectionConfig['mode'] | undefined;
  /** Merge-patch: a string sets, null removes; a masked value keeps the stored secret. */
  env?: Record<string, string | null> | undefined;
  /** The complete set of variables (a console form); masked values keep the stored secrets. */
  replaceEnv?: Record<string, string> | undefined;
  limits?: LimitsInput | undefined;
  /** Replaces `egress` as a whole. */
  egress?: EgressInput | undefined;
  showScriptErrors?: boolean | undefined;
  claimsCacheSeconds?: number | undefined;
  maxConcurrentScripts?: number | undefined;
  breaker?: Partial<ConnectionConfig['breaker']> | undefined;
}

export function viewConnection(connection: Connection, sources: Record<string, SettingOrigin>): ConnectionView {
  return {
    sources,
    enabled: connection.enabled,
    mode: connection.mode,
    env: maskEnv(connection.env),
    form: envForm(connection.env),
    limits: connection.limits,
    egress: connection.egress,
    showScriptErrors: connection.showScriptErrors,
    claimsCacheSeconds: connection.claimsCacheSeconds,
    maxConcurrentScripts: connection.maxConcurrentScripts,
    breaker: connection.breaker,
    scriptsDir: connection.scriptsDir ?? null,
    scriptsSource: connection.scriptsDir ? 'files' : 'store',
  };
}

/** Reading and changing the connection; changes are validated against the configuration schema and saved for every instance. */
export function createConnectionLibrary(settings: ConnectionSettings) {
  return {
    async view(): Promise<ConnectionView> {
      return viewConnection(await settings.current(), await settings.origins());
    },

    /** Forgets the values saved in the console or API: the configuration file's count again. */
    async followFile(): Promise<ConnectionView> {
      return viewConnection(await settings.forgetSaved(), await settings.origins());
    },

    async update(change: ConnectionChange): Promise<ConnectionView> {
      const current = await settings.current();
      const patch: Partial<ConnectionConfig> = {};
      if (change.enabled !== undefined) patch.enabled = change.enabled;
      if (change.mode !== undefined) patch.mode = change.mode;
      if (change.showScriptErrors !== undefined) patch.showScriptErrors = change.showScriptErrors;
      if (change.claimsCacheSeconds !== undefined) patch.claimsCacheSeconds = change.claimsCacheSeconds;
      if (change.maxConcurrentScripts !== undefined) patch.maxConcurrentScripts = change.maxConcurrentScripts;
      if (change.breaker) patch.breaker = { ...current.breaker, ...change.breaker };
      // Only what changed is saved over the configuration file: untouched keys keep following it.
      if (change.replaceEnv) patch.env = replaceEnv(current.env, change.replaceEnv);
      else if (change.env) patch.env = mergeEnv(current.env, change.env);
      if (change.limits) patch.limits = { ...current.limits, ...change.limits } as ConnectionConfig['limits'];
      if (change.egress) patch.egress = change.egress as ConnectionConfig['egress'];
      const { id: _id, ...rest } = current;
      const checked = connectionSchema.safeParse({ ...rest, ...patch });
      if (!checked.success) throw invalid(checked.error);
      if (patch.limits) patch.limits = checked.data.limits;
      if (patch.egress) patch.egress = checked.data.egress;
      if (patch.env) patch.env = checked.data.env;
      return viewConnection(await settings.save(patch), await settings.origins());
    },
  };
}

export type ConnectionLibrary = ReturnType<typeof createConnectionLibrary>;
