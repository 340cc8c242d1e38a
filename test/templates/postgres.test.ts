import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { createPostgresDatabase, needService, postgresReachable } from '../helpers/services.ts';
import { SCRIPT_NAMES, TEMPLATES_DIR, templateRunner, templateSource, waitFor } from './run.ts';
import { checkTemplateBehaviour, SEED_USERS } from './scenario.ts';

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** schema.sql as a customer would load it, then the seed users with bcrypt cost-10 hashes. */
async function loadLegacyTable(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(readFileSync(join(TEMPLATES_DIR, 'postgres', 'schema.sql'), 'utf8'));
    for (const user of SEED_USERS) {
      await client.query(
        `INSERT INTO users (email, phone, username, password, name, nickname, email_verified, birthdate, company, logins_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          user.email,
          user.phone,
          user.username,
          await bcrypt.hash(user.password, 10),
          user.name,
          user.nickname,
          user.emailVerified,
          user.birthdate,
          user.company,
          user.loginsCount,
        ],
      );
    }
  });
}

test('the PostgreSQL templates run in the sandbox against a real users table', async (t) => {
  if (!(await needService(t, 'PostgreSQL', postgresReachable))) return;
  const db = await createPostgresDatabase('ferry_tpl_pg');
  const scripts = templateRunner('postgres');
  t.after(async () => {
    scripts.close();
    await db.drop();
  });
  await loadLegacyTable(db.url);

  const url = new URL(db.url);
  await checkTemplateBehaviour(t, {
    run: scripts.run,
    uriEnv: { DB_CONNECTION_URI: db.url },
    fieldsEnv: {
      DB_HOST: url.hostname,
      DB_PORT: url.port || '5432',
      DB_USERNAME: decodeURIComponent(url.username),
      DB_PASSWORD: decodeURIComponent(url.password),
      DB_DATABASE: db.name,
    },
    storedHash: (id) => withClient(db.url, async (client) => (await client.query('SELECT password FROM users WHERE id = $1', [id])).rows[0].password),
    missingId: '999999',
    updatedAtIsDate: true,
    async conflictingInsert(email) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query('BEGIN');
      await client.query('INSERT INTO users (email, username) VALUES ($1, $2)', [email, 'holder']);
      return {
        whenBlocked: () =>
          waitFor(() =>
            withClient(db.url, async (admin) => {
              const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [db.name]);
              return rows[0].n > 0;
            }),
          ),
        async commit() {
          await client.query('COMMIT');
          await client.end();
        },
      };
    },
  });
});

test('hooks/ holds the PostgreSQL templates, unchanged, for the zero-configuration demo', () => {
  for (const name of SCRIPT_NAMES) {
    assert.equal(
      readFileSync(join(TEMPLATES_DIR, '..', `${name}.js`), 'utf8'),
      templateSource('postgres', name),
      `hooks/${name}.js differs from templates/postgres/${name}.js`,
    );
  }
});
