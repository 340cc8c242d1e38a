import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcrypt';
import mysql from 'mysql2/promise';
import { MYSQL_ADMIN, needService, uniqueName } from '../helpers/services.ts';
import { TEMPLATES_DIR, templateRunner, waitFor } from './run.ts';
import { checkTemplateBehaviour, SEED_USERS } from './scenario.ts';

async function withConnection<T>(options: mysql.ConnectionOptions, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ ...MYSQL_ADMIN, connectTimeout: 3000, ...options });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/** schema.sql as a customer would load it, then the seed users with bcrypt cost-10 hashes. */
async function loadLegacyTable(database: string): Promise<void> {
  await withConnection({ database, multipleStatements: true }, async (connection) => {
    await connection.query(readFileSync(join(TEMPLATES_DIR, 'mysql', 'schema.sql'), 'utf8'));
    for (const user of SEED_USERS) {
      await connection.execute(
        `INSERT INTO users (email, phone, username, password, name, nickname, email_verified, birthdate, company, logins_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

test('the MySQL templates run in the sandbox against a real users table', async (t) => {
  if (!(await needService(t, 'MySQL/MariaDB', () => withConnection({}, (connection) => connection.ping())))) return;
  const database = uniqueName('ferry_tpl_mysql');
  await withConnection({}, (connection) => connection.query(`CREATE DATABASE \`${database}\``));
  const scripts = templateRunner('mysql');
  t.after(async () => {
    scripts.close();
    await withConnection({}, (connection) => connection.query(`DROP DATABASE IF EXISTS \`${database}\``));
  });
  await loadLegacyTable(database);

  const uri = new URL(`mysql://${MYSQL_ADMIN.host}:${MYSQL_ADMIN.port}/${database}`);
  uri.username = MYSQL_ADMIN.user;
  uri.password = MYSQL_ADMIN.password;
  await checkTemplateBehaviour(t, {
    run: scripts.run,
    uriEnv: { DB_CONNECTION_URI: uri.href },
    fieldsEnv: {
      DB_HOST: MYSQL_ADMIN.host,
      DB_PORT: String(MYSQL_ADMIN.port),
      DB_USERNAME: MYSQL_ADMIN.user,
      DB_PASSWORD: MYSQL_ADMIN.password,
      DB_DATABASE: database,
    },
    storedHash: (id) =>
      withConnection({ database }, async (connection) => {
        const [rows] = await connection.execute<mysql.RowDataPacket[]>('SELECT password FROM users WHERE id = ?', [Number(id)]);
        return rows[0]!.password as string;
      }),
    missingId: '999999',
    updatedAtIsDate: true,
    async conflictingInsert(email) {
      const connection = await mysql.createConnection({ ...MYSQL_ADMIN, database });
      await connection.beginTransaction();
      await connection.execute('INSERT INTO users (email, username) VALUES (?, ?)', [email, 'holder']);
      return {
        // InnoDB refreshes INNODB_TRX only when it has not been read for 100 ms: poll slower than that.
        whenBlocked: () =>
          waitFor(
            () =>
              withConnection({}, async (admin) => {
                const [rows] = await admin.query<mysql.RowDataPacket[]>(
                  `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'`,
                );
                return Number(rows[0]!.n) > 0;
              }),
            { intervalMs: 150 },
          ),
        async commit() {
          await connection.commit();
          await connection.end();
        },
      };
    },
  });
});
