import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import bcrypt from 'bcrypt';
import type { Config } from '../config/schema.ts';

export const HOOKS_DIR = join(import.meta.dirname, '..', '..', 'hooks');
const SCHEMA = join(HOOKS_DIR, 'templates', 'postgres', 'schema.sql');

/** The sample legacy users. Their passwords are printed on the demo page: they exist only here. */
export const DEMO_USERS = [
  { email: 'alice@example.com', username: 'alice', phone: '+15550100001', name: 'Alice Liddell', nickname: 'Alice', password: 'wonderland-1865' },
  { email: 'bob@example.com', username: 'bob', phone: '+15550100002', name: 'Bob Kahn', nickname: 'Bob', password: 'tcp-ip-1974' },
  { email: 'carol@example.com', username: 'carol', phone: '+15550100003', name: 'Carol Shaw', nickname: 'Carol', password: 'river-raid-1982' },
] as const;

export interface LegacyDemo {
  /** postgres://… for the connection's DB_CONNECTION_URI. */
  url: string;
  close(): Promise<void>;
}

/** The configuration with the demo's legacy database as a lazy-migration connection running hooks/. */
export function withLegacyDemo(config: Config, legacyDemo: LegacyDemo | undefined): Config {
  if (!legacyDemo) return config;
  return {
    ...config,
    connection: { ...config.connection, enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacyDemo.url }, scriptsDir: HOOKS_DIR },
  };
}

/**
 * The zero-configuration demo's "existing database": embedded PGlite served over the PostgreSQL
 * wire protocol on a loopback port, holding the users of the PostgreSQL template's schema with
 * bcrypt cost-10 passwords. Nothing to install; its files live in `<dataDir>/legacy-demo`.
 */
export async function startLegacyDemo(dataDir: string): Promise<LegacyDemo> {
  const dir = join(dataDir, 'legacy-demo');
  const fresh = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  if (fresh || !(await db.query(`select to_regclass('public.users') as t`)).rows.some((row) => (row as { t: unknown }).t)) {
    await db.exec(readFileSync(SCHEMA, 'utf8'));
    for (const user of DEMO_USERS) {
      await db.query(
        `insert into users (email, username, phone, name, nickname, password, email_verified, company)
         values ($1, $2, $3, $4, $5, $6, true, 'Legacy Corp')`,
        [user.email, user.username, user.phone, user.name, user.nickname, await bcrypt.hash(user.password, 10)],
      );
    }
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
