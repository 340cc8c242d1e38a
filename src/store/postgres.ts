import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Database, QueryResult } from './db.ts';

// int8 (counts, sums) as a JS number, as PGlite returns it.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** How many distinct statement texts get a name (and so are prepared once per connection); any beyond run unnamed. */
export const MAX_NAMED_STATEMENTS = 200;

/**
 * Names for the statements Ferry sends with parameters, so that PostgreSQL parses and plans each
 * once per connection instead of at every execution (docs/store-round-trips.md: the backends' CPU per refresh
 * grant fell by about 40 %). A name is the hash of the text. The texts are Ferry's own and few;
 * the cap bounds what a statement whose text varies (a batch insert's row count) can add.
 */
function statementNames(max: number) {
  const names = new Map<string, string>();
  let renamed = 0;
  const fresh = (sql: string) => `ferry_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}${renamed > 0 ? `_${renamed}` : ''}`;
  return {
    of(sql: string): string | undefined {
      const name = names.get(sql);
      if (name !== undefined || names.size >= max) return name;
      const made = fresh(sql);
      names.set(sql, made);
      return made;
    },
    /**
     * A prepared statement whose result columns changed under it (another instance's migration
     * added a column to a table it selects `*` from) fails on every connection that prepared it;
     * under a new name it is prepared again as the table is now.
     */
    renew(sql: string): string {
      renamed += 1;
      const made = fresh(sql);
      names.set(sql, made);
      return made;
    },
  };
}

const isStalePlan = (error: unknown) =>
  (error as { code?: string }).code === '0A000' && /cached plan must not change result type/.test((error as Error).message ?? '');

/** PostgreSQL through a connection pool; any number of Ferry processes may share one database. */
export async function openPostgres(url: string, options: { max?: number; preparedStatements?: boolean; maxNamedStatements?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    application_name: 'ferry',
  });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const names = options.preparedStatements === false ? undefined : statementNames(options.maxNamedStatements ?? MAX_NAMED_STATEMENTS);
  // Only statements with parameters are named (run() decides): one without goes as a simple query.
  const send = (client: pg.Pool | pg.PoolClient, sql: string, params: unknown[] | undefined, name: string | undefined) =>
    name === undefined ? client.query(sql, params) : client.query({ name, text: sql, values: params });
  const run = async <Row>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params: readonly unknown[] | undefined,
    inTransaction: boolean,
  ): Promise<QueryResult<Row>> => {
    const values = params as unknown[] | undefined;
    let result: pg.QueryResult;
    try {
      result = await send(client, sql, values, values?.length ? names?.of(sql) : undefined);
    } catch (error) {
      // Outside a transaction the statement is simply sent again; inside one the transaction has
      // failed with it, and the caller's next attempt gets the new name.
      if (!names || !isStalePlan(error)) throw error;
      const renewed = names.renew(sql);
      if (inTransaction) throw error;
      result = await send(client, sql, values, renewed);
    }
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
  };
  const db: Database = {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params, false),
    exec: async (sql) => void (await pool.query(sql)),
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('begin');
        const result = await fn({ query: (sql, params) => run(client, sql, params, true), exec: async (sql) => void (await client.query(sql)) });
        await client.query('commit');
        return result;
      } catch (error) {
        // A connection that cannot even roll back is dropped instead of going back to the pool.
        await client.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await pool.end();
    },
  };
  await db.ping();
  return db;
}
