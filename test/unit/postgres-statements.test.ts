import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Database } from '../../src/store/db.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { createPostgresDatabase, needService, postgresReachable } from '../helpers/services.ts';

/** The statements prepared on the connection a transaction holds, by text. */
async function preparedOn(db: Database, work: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<unknown>): Promise<string[]> {
  return db.transaction(async (tx) => {
    await work(tx);
    // Without parameters: a simple query, so this one is not prepared itself.
    const { rows } = await tx.query<{ statement: string }>('select statement from pg_prepared_statements order by prepare_time');
    return rows.map((row) => row.statement);
  });
}

async function withDatabase(t: TestContext, options: Parameters<typeof openPostgres>[1], work: (db: Database) => Promise<void>): Promise<void> {
  if (!(await needService(t, 'PostgreSQL', postgresReachable))) return;
  const database = await createPostgresDatabase('ferry_statements');
  const db = await openPostgres(database.url, options);
  try {
    await work(db);
  } finally {
    await db.close();
    await database.drop();
  }
}

describe('statements sent to PostgreSQL', () => {
  it('are prepared once per connection when they have parameters, and run unprepared with databasePreparedStatements off', async (t) => {
    const twice = async (tx: Pick<Database, 'query'>) => {
      for (let i = 0; i < 2; i++) assert.deepEqual((await tx.query<{ n: number }>('select $1::int + 1 as n', [i])).rows, [{ n: i + 1 }]);
    };
    await withDatabase(t, {}, async (db) => {
      assert.deepEqual(await preparedOn(db, twice), ['select $1::int + 1 as n']);
    });
    await withDatabase(t, { preparedStatements: false }, async (db) => {
      assert.deepEqual(await preparedOn(db, twice), []);
    });
  });

  it('name only so many distinct texts; the rest still run, unprepared', async (t) => {
    await withDatabase(t, { maxNamedStatements: 2 }, async (db) => {
      const texts = ['select $1::int as a', 'select $1::int as b', 'select $1::int as c'];
      const prepared = await preparedOn(db, async (tx) => {
        for (const text of texts) assert.deepEqual((await tx.query(text, [7])).rows.length, 1);
      });
      assert.deepEqual(prepared, texts.slice(0, 2));
    });
  });

  it("keep working when another instance's migration changes a table they select every column of", async (t) => {
    await withDatabase(t, { max: 1 }, async (db) => {
      await db.exec('create table things (id int primary key, name text); insert into things values (1, $$one$$)');
      const read = 'select * from things where id = $1';
      assert.deepEqual((await db.query(read, [1])).rows, [{ id: 1, name: 'one' }]);
      await db.exec('alter table things add column colour text');
      // One connection, so the statement prepared before the change is the one in use.
      assert.deepEqual((await db.query(read, [1])).rows, [{ id: 1, name: 'one', colour: null }]);
      assert.deepEqual((await db.query(read, [1])).rows, [{ id: 1, name: 'one', colour: null }]);
      // In a transaction the failed statement has failed the transaction: the error reaches the
      // caller, and its next attempt runs under the new name.
      await db.exec('alter table things add column size int');
      await assert.rejects(
        db.transaction((tx) => tx.query(read, [1])),
        /cached plan must not change result type/,
      );
      assert.deepEqual((await db.transaction((tx) => tx.query(read, [1]))).rows, [{ id: 1, name: 'one', colour: null, size: null }]);
    });
  });
});
