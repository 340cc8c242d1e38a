import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.FERRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MYSQL_ADMIN = {
  host: process.env.FERRY_TEST_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.FERRY_TEST_MYSQL_PORT ?? 3306),
  user: 'root',
  password: '',
};

/**
 * A test that needs a service skips when it is missing on a developer's machine, and fails under
 * CI=true, where every service must be running.
 */
export async function needService(t: TestContext, name: string, check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    const message = `${name} is not reachable: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: tests never skip for a missing service)`);
    t.skip(message);
    return false;
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A fresh PostgreSQL database; `drop()` removes it (terminating leftover connections). */
export async function createPostgresDatabase(prefix = 'ferry_test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A fresh MariaDB database; `drop()` removes it. */
export async function createMysqlDatabase(prefix = 'ferry_test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  const admin = await mysql.createConnection(MYSQL_ADMIN);
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `mysql://${MYSQL_ADMIN.user}@${MYSQL_ADMIN.host}:${MYSQL_ADMIN.port}/${name}`,
    async drop() {
      const client = await mysql.createConnection(MYSQL_ADMIN);
      try {
        await client.query(`drop database if exists ${name}`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function postgresReachable(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.end();
}

export async function mysqlReachable(): Promise<void> {
  const connection = await mysql.createConnection({ ...MYSQL_ADMIN, connectTimeout: 3000 });
  await connection.end();
}
