import type { Database } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export type { Database, Queryable, QueryResult } from './db.ts';

export interface StoreOptions {
  /** PostgreSQL URL; without it the embedded PGlite database in `dataDir` is used. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Named prepared statements on PostgreSQL (default on); off behind a pooler that does not keep them. */
  preparedStatements?: boolean;
}

/** Opens Ferry's database and brings its schema up to date. */
export async function openDatabase(options: StoreOptions): Promise<Database> {
  const db = options.databaseUrl
    ? await openPostgres(options.databaseUrl, { preparedStatements: options.preparedStatements })
    : await openPglite(options.dataDir);
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

/** Where the data lives, for start-up messages (never includes credentials). */
export function describeDatabase(options: StoreOptions): string {
  if (!options.databaseUrl) return `embedded PGlite in ${options.dataDir}`;
  const url = new URL(options.databaseUrl);
  return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
