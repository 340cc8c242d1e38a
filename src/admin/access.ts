import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { tokensMatch } from '../security/tokens.ts';
import type { Queryable } from '../store/db.ts';
import { createAdminKeyQueries } from '../store/queries/admin-keys.ts';
import { createKeyQueries } from '../store/queries/keys.ts';
import { sha256Hex } from './library/admin-keys.ts';
import type { Admin, Role } from './roles.ts';

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

/** The adminToken from the configuration: the bootstrap owner. */
export const BOOTSTRAP_ADMIN: Admin = { id: 'token', name: 'adminToken', role: 'owner' };

/** The admin token, resolved once, and the check every admin request goes through. */
export function createAdminAccess(deps: { config: Pick<Config, 'adminToken' | 'demo'>; db: Queryable }) {
  let resolved: Promise<string | undefined> | undefined;
  const token = () =>
    (resolved ??= resolveAdminToken(deps.config, deps.db).catch((error: unknown) => {
      resolved = undefined;
      throw error;
    }));
  const keys = createAdminKeyQueries(deps.db);
  const fromRow = (row: { id: string; name: string; role: string }): Admin => ({ id: row.id, name: row.name, role: row.role as Role });
  return {
    /** undefined when the admin API and console are off. */
    token,
    /**
     * Who `given` is: the bootstrap owner for the adminToken, a named admin for a key (read on every
     * request, so a revoked key is refused at once), undefined otherwise or while the admin API is off.
     */
    async identify(given: string | undefined): Promise<Admin | undefined> {
      const expected = await token();
      if (expected === undefined || given === undefined || given === '') return undefined;
      if (tokensMatch(given, expected)) return BOOTSTRAP_ADMIN;
      const row = await keys.byHash(sha256Hex(given));
      if (!row) return undefined;
      await keys.touch(row.id);
      return fromRow(row);
    },
    /** The admin with this id and a secret only they could have (the console keys its cookie with it). */
    async byId(id: string): Promise<{ admin: Admin; secret: string } | undefined> {
      const expected = await token();
      if (expected === undefined) return undefined;
      if (id === BOOTSTRAP_ADMIN.id) return { admin: BOOTSTRAP_ADMIN, secret: sha256Hex(expected) };
      const row = await keys.byId(id);
      return row ? { admin: fromRow(row), secret: row.key_sha256 } : undefined;
    },
  };
}

export type AdminAccess = ReturnType<typeof createAdminAccess>;
