/**
 * For lazy-drivers.test.ts: which database drivers a sandbox has loaded (Node's module cache)
 * after starting, after a script that uses PostgreSQL only, and after one that reaches for SQL
 * Server (at a port nobody listens on: it fails, but the driver had to be loaded to try).
 */
import { createRequire } from 'node:module';
import { createLogger } from '../../src/log.ts';
import { createSandbox } from '../../src/sandbox/index.ts';

const cache = createRequire(import.meta.url).cache;
const DRIVERS = ['mssql', 'tedious', 'mongodb', 'mysql2'];
const loaded = () => DRIVERS.filter((name) => Object.keys(cache).some((file) => file.includes(`/node_modules/${name}/`)));

const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 1 });
const report: Record<string, string[] | string> = { atStart: loaded() };
const pg = await sandbox.run({ name: 'main', source: `async function main() { const { Client } = require('pg'); return typeof Client; }`, args: [] });
report.afterPg = pg.ok ? loaded() : `failed: ${pg.kind}`;
const port = Number(process.argv[2]);
const sql = await sandbox.run({
  name: 'main',
  source: `async function main(port) { const sql = require('mssql'); await sql.connect({ server: '127.0.0.1', port, user: 'u', password: 'p', options: { trustServerCertificate: true } }); }`,
  args: [port],
  limits: { timeoutMs: 5000 },
});
report.mssqlOutcome = sql.ok ? 'ok' : sql.kind;
report.afterMssql = loaded();
await sandbox.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
