import { readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MYSQL_ADMIN, PG_ADMIN_URL, createMysqlDatabase, createPostgresDatabase } from './services.ts';

export const TEMPLATES = join(import.meta.dirname, '..', '..', 'hooks', 'templates');

export interface LegacyUser {
  email: string;
  username: string;
  phone?: string;
  name: string;
  password: string;
}

export interface LegacyDatabase {
  kind: 'postgres' | 'mysql';
  url: string;
  host: string;
  port: number;
  database: string;
  /** Rows of the users table (for assertions). */
  users(): Promise<Record<string, unknown>[]>;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** A real legacy database (a unique one per call) with the template schema and bcrypt cost-10 users. */
export async function createLegacyDatabase(kind: 'postgres' | 'mysql', users: readonly LegacyUser[]): Promise<LegacyDatabase> {
  const schema = readFileSync(join(TEMPLATES, kind, 'schema.sql'), 'utf8');
  const hashed = await Promise.all(users.map(async (user) => ({ ...user, hash: await bcrypt.hash(user.password, 10) })));
  return kind === 'postgres' ? postgresLegacy(schema, hashed) : mysqlLegacy(schema, hashed);
}

async function postgresLegacy(schema: string, users: (LegacyUser & { hash: string })[]): Promise<LegacyDatabase> {
  const database = await createPostgresDatabase('ferry_legacy');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query(schema);
  for (const user of users) {
    await client.query('insert into users (email, username, phone, name, password, email_verified) values ($1, $2, $3, $4, $5, true)', [
      user.email,
      user.username,
      user.phone ?? null,
      user.name,
      user.hash,
    ]);
  }
  await client.end();
  const url = new URL(database.url);
  const run = async (sql: string, params: unknown[] = []) => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  return {
    kind: 'postgres',
    url: database.url,
    host: url.hostname,
    port: Number(url.port || 5432),
    database: database.name,
    users: () => run('select * from users order by id'),
    query: run,
    drop: database.drop,
  };
}

async function mysqlLegacy(schema: string, users: (LegacyUser & { hash: string })[]): Promise<LegacyDatabase> {
  const database = await createMysqlDatabase('ferry_legacy');
  const name = database.name;
  const admin = await mysql.createConnection({ ...MYSQL_ADMIN, database: name, multipleStatements: true });
  await admin.query(schema);
  for (const user of users) {
    await admin.query('insert into users (email, username, phone, name, password, email_verified) values (?, ?, ?, ?, ?, 1)', [
      user.email,
      user.username,
      user.phone ?? null,
      user.name,
      user.hash,
    ]);
  }
  await admin.end();
  const run = async (sql: string, params: unknown[] = []) => {
    const c = await mysql.createConnection({ ...MYSQL_ADMIN, database: name });
    try {
      return (await c.query(sql, params))[0] as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  return {
    kind: 'mysql',
    url: database.url,
    host: MYSQL_ADMIN.host,
    port: MYSQL_ADMIN.port,
    database: name,
    users: () => run('select * from users order by id'),
    query: run,
    drop: database.drop,
  };
}

/**
 * A TCP proxy in front of a real database server, so a test can cut the legacy database off
 * without stopping the shared server, and bring it back. Two ways to cut:
 * - `refuse`: new connections are refused and open ones reset (a stopped server; callers fail fast);
 * - `blackhole`: connections are accepted and open ones kept, but nothing goes through in either
 *   direction (a network partition or a hung server; callers wait for their own deadlines).
 */
export async function createOutageProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  const links = new Set<{ client: Socket; upstream: Socket }>();
  let blackhole = false;
  const track = (socket: Socket, also?: Socket) => {
    sockets.add(socket);
    const close = () => {
      socket.destroy();
      also?.destroy();
      sockets.delete(socket);
    };
    socket.on('error', close).on('close', close);
  };
  const server = createServer((client) => {
    if (blackhole) {
      track(client);
      client.resume(); // read and drop: the connection is open, and nobody ever answers
      return;
    }
    const upstream = connect(target.port, target.host);
    const link = { client, upstream };
    links.add(link);
    client.on('close', () => links.delete(link));
    track(client, upstream);
    track(upstream, client);
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  await listen(0);
  const port = (server.address() as { port: number }).port;
  const resetAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    links.clear();
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      resetAll();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });
  return {
    port,
    async cut(how: 'refuse' | 'blackhole' = 'refuse') {
      if (how === 'refuse') return stop();
      blackhole = true;
      for (const { client, upstream } of links) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.resume();
        upstream.resume();
      }
    },
    /** Forwards again; connections held by a blackhole are reset, as a healed network's would time out. */
    async restore() {
      if (blackhole) {
        blackhole = false;
        resetAll();
      }
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
}

export { PG_ADMIN_URL };
