import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness } from './attack-harness.ts';
import { MYSQL_ADMIN, PG_ADMIN_URL, mysqlReachable, needService, postgresReachable } from '../helpers/services.ts';
import type { Outcome } from '../../src/sandbox/index.ts';

/** Most the host's resident memory may grow while one of these values is refused. */
const HOST_GROWTH_MB = 100;

const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/**
 * Values of a gigabyte and more that a 64 MiB script can build cheaply (repeat() makes ropes)
 * must be refused inside the isolate, before isolated-vm flattens and copies them into Ferry's
 * process: the outcome is `limit`, naming the limit, and the host barely grows.
 */
describe('values leaving the isolate are bounded in bytes before they are copied', () => {
  let harness: Harness;
  before(async () => {
    harness = await createHarness();
  });
  after(() => harness.close());

  /**
   * Runs an attack and checks how far the host's resident memory rose meanwhile (sampled every
   * 2 ms: the isolate runs on its own thread, and a copy or a flattened rope is freed again soon).
   */
  const measured = async (source: string, expect: Parameters<Harness['attack']>[1]['expect']) => {
    const before = rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 2);
    try {
      return await harness.attack(source, { expect, limits: { cpuTimeMs: 3000, timeoutMs: 5000 } });
    } finally {
      clearInterval(sampler);
      peak = Math.max(peak, rssMb());
      console.log(`rss ${before} MiB, peak ${peak} MiB: ${source.slice(0, 100).replace(/\s+/g, ' ')}`);
      assert.ok(peak - before < HOST_GROWTH_MB, `the host grew by ${peak - before} MiB`);
    }
  };
  const failed = (outcome: Outcome) => (outcome.ok ? '' : outcome.message);

  test('a 512 MiB two-byte string in four profile fields ends as limit, naming maxResultKb', async () => {
    const outcome = await measured(
      `async function main() { const s = '\\u0100'.repeat(2 ** 28); return { id: '1', name: s, nickname: s, given_name: s, family_name: s }; }`,
      'limit',
    );
    assert.match(failed(outcome), /result is larger than the limit of 1024 KiB \(connection\.limits\.maxResultKb\)/);
  });

  test('a 512 MiB one-byte string as the result ends as limit', async () => {
    await measured(`async function main() { return 'a'.repeat(2 ** 29 - 24); }`, 'limit');
  });

  test('a result just over maxResultKb ends as limit; one under it arrives whole', async () => {
    const over = await harness.attack(`async function main() { return { id: '1', blob: 'é'.repeat(600 * 1024) }; }`, { expect: 'limit' });
    assert.match(failed(over), /maxResultKb/);
    const under = await harness.attack(`async function main() { return { id: '1', blob: 'é'.repeat(500 * 1024) }; }`, { expect: true });
    assert.equal((under.ok ? (under.value as { blob: string }).blob : '').length, 500 * 1024);
  });

  test("a script cannot catch its way past the limit on a call's arguments", async () => {
    await harness.attack(`async function main() { try { await require('bcrypt').hash('a'.repeat(2 ** 29 - 24), 4); } catch {} return { id: '1' }; }`, {
      expect: 'limit',
    });
  });

  test('an error thrown with a 512 MiB message, in the script or in a timer, or a thrown object holding one, stays small on the host', async () => {
    await measured(`async function main() { throw new Error('a'.repeat(2 ** 29 - 24)); }`, 'script_error');
    await measured(`async function main() { throw 'a'.repeat(2 ** 29 - 24); }`, 'script_error');
    await measured(`async function main() { throw { message: 'a'.repeat(2 ** 29 - 24), detail: '\\u0100'.repeat(2 ** 28) }; }`, 'script_error');
    await measured(
      `async function main() { setTimeout(() => { throw new Error('\\u0100'.repeat(2 ** 28)); }, 1); await new Promise((resolve) => setTimeout(resolve, 60000)); }`,
      'script_error',
    );
  });

  test('console output of a 512 MiB string, alone, in an object or in an error, is cut in the isolate', async () => {
    const outcome = await measured(
      `async function main() { const s = '\\u0100'.repeat(2 ** 28); console.log(s); console.log({ a: s, b: [s] }, s, new Error(s)); return { id: '1' }; }`,
      true,
    );
    assert.ok(outcome.logs.every((line) => line.message.length < 64 * 1024 + 100));
  });

  const PG_SCRIPT = `async function main(url, sql) {
    const { Client } = require('pg');
    const client = new Client({ connectionString: url });
    await client.connect();
    try { const { rows } = await client.query(sql); return { id: '1', size: rows.length }; }
    catch (error) { return { id: '1', caught: error.message }; }
    finally { await client.end(); }
  }`;
  const MYSQL_SCRIPT = `async function main(url, sql) {
    const mysql = require('mysql2/promise');
    const connection = await mysql.createConnection(url);
    try { const [rows] = await connection.query(sql); return { id: '1', size: rows.length }; }
    catch (error) { return { id: '1', caught: error.message }; }
    finally { await connection.end(); }
  }`;
  const MYSQL_URL = `mysql://${MYSQL_ADMIN.user}@${MYSQL_ADMIN.host}:${MYSQL_ADMIN.port}/mysql`;

  /** Runs a legacy query and checks the outcome and the host's growth meanwhile. */
  const query = async (source: string, args: unknown[], expect: 'ok' | 'limit') => {
    const before = rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 2);
    try {
      const outcome = await harness.run(source, { args, limits: { timeoutMs: 20_000, cpuTimeMs: 3000 } });
      assert.equal(outcome.ok ? 'ok' : outcome.kind, expect, outcome.ok ? JSON.stringify(outcome.value) : outcome.message);
      return outcome;
    } finally {
      clearInterval(sampler);
      peak = Math.max(peak, rssMb());
      console.log(`rss ${before} MiB, peak ${peak} MiB: ${String(args[1])}`);
      assert.ok(peak - before < HOST_GROWTH_MB, `the host grew by ${peak - before} MiB`);
    }
  };

  test('a PostgreSQL row with one 300 MiB value ends as limit, naming maxQueryResultKb, though the script catches the error', async (t) => {
    if (!(await needService(t, 'PostgreSQL', postgresReachable))) return;
    const outcome = await query(PG_SCRIPT, [PG_ADMIN_URL, `select repeat('x', 300 * 1024 * 1024) as v`], 'limit');
    assert.match(failed(outcome), /larger than the limit of 8192 KiB \(connection\.limits\.maxQueryResultKb\)/);
    await query(PG_SCRIPT, [PG_ADMIN_URL, `select repeat('x', 1024 * 1024) as v`], 'ok');
  });

  test('300 MariaDB rows of 1 MiB each (under maxRows) end as limit', async (t) => {
    if (!(await needService(t, 'MariaDB', mysqlReachable))) return;
    const outcome = await query(MYSQL_SCRIPT, [MYSQL_URL, `select repeat('x', 1048576) as v from seq_1_to_300`], 'limit');
    assert.match(failed(outcome), /maxQueryResultKb/);
    await query(MYSQL_SCRIPT, [MYSQL_URL, `select repeat('x', 1048576) as v from seq_1_to_2`], 'ok');
  });

  test('a result that refers to itself, or whose toJSON returns itself, is refused with a clear message', async () => {
    for (const source of [
      `async function main() { const profile = { id: '1' }; profile.self = profile; return profile; }`,
      `async function main() { class Profile { toJSON() { return this; } } return { id: '1', extra: new Profile() }; }`,
      `async function main() { class Profile { toJSON() { return { id: '1', again: this }; } } return new Profile(); }`,
    ]) {
      const outcome = await harness.attack(source, { expect: 'invalid_result' });
      assert.match(failed(outcome), /result refers to itself/);
    }
  });
});
