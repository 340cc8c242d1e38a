import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { tokensMatch } from '../security/tokens.ts';
import type { Queryable } from '../store/db.ts';
import { createKeyQueries } from '../store/queries/keys.ts';

/** Where the demo's generated token is kept, so every restart (and every instance) agrees on it. */
export const ADMIN_TOKEN_SETTING = 'admin_token';

/**
 * The admin token: `adminToken` from the configuration; in the demo, one generated on first start
 * and kept in the settings table; otherwise none, and the admin API and console are off.
 */
export async function resolveAdminToken(config: Pick<Config, 'adminToken' | 'demo'>, db: Queryable): Promise<string | undefined> {
  if (config.adminToken) return config.adminToken;
  if (!config.demo) return undefined;
  return createKeyQueries(db).putSettingIfAbsent(ADMIN_TOKEN_SETTING, randomBytes(32).toString('base64url'));
}

/** The admin token, resolved once, and the check every admin request goes through. */
export function createAdminAccess(deps: { config: Pick<Config, 'adminToken' | 'demo'>; db: Queryable }) {
  let resolved: Promise<string | undefined> | undefined;
  const token = () =>
    (resolved ??= resolveAdminToken(deps.config, deps.db).catch((error: unknown) => {
      resolved = undefined;
      throw error;
    }));
  return {
    /** undefined when the admin API and console are off. */
    token,
    async accepts(given: string | undefined): Promise<boolean> {
      const expected = await token();
      return expected !== undefined && given !== undefined && tokensMatch(given, expected);
    },
  };
}

export type AdminAccess = ReturnType<typeof createAdminAccess>;
