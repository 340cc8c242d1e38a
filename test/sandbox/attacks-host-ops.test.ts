import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { op, syncOp } from '../../src/sandbox/bridge/types.ts';
import { createHarness, valueOf, type Harness } from './attack-harness.ts';

/** Something thrown on the host whose every property read throws. */
const hostile = {
  get message(): string {
    throw new Error('message getter');
  },
  get code(): string {
    throw new Error('code getter');
  },
  get cause(): unknown {
    throw new Error('cause getter');
  },
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Host operations misbehaving, as a driver bug might make them: throwing hostile values,
 * answering with values that cannot be copied, rejecting late or never settling. The script must
 * get plain errors with nothing of the host in them, and the host must see no unhandled
 * rejection (the harness listens for them after every attack).
 */
describe('misbehaving host operations', () => {
  let harness: Harness;
  const late: string[] = [];

  before(async () => {
    harness = await createHarness({
      ops: {
        'bcrypt.hash': op(() => {
          throw hostile;
        }),
        'bcrypt.compare': op(async () => () => 'a host function'),
        'url.set': syncOp(() => {
          throw hostile;
        }),
        'pg.connect': op(async () => ({ socket: process.stdout, secret: Symbol('s') })),
        'pg.pool': op(() => Promise.reject(undefined)),
        'mysql.connect': op(async () => {
          await sleep(300);
          late.push('mysql.connect settled after the execution');
          throw new Error('rejected after the execution ended');
        }),
        'mysql.pool': op(() => new Promise(() => {})),
      },
    });
  });
  after(() => harness.close());

  test('a hostile throw or an uncopyable answer reaches the script as a plain error without host details', async () => {
    const outcome = await harness.attack(
      `async function main() {
        const bcrypt = require('bcrypt'), pg = require('pg');
        const out = [];
        const attempt = async (name, run) => { try { await run(); out.push([name, 'no error']); } catch (error) { out.push([name, error.message, error.stack, Object.getOwnPropertyNames(error).sort().join()]); } };
        await attempt('async throw', () => bcrypt.hash('x', 4));
        await attempt('blocking throw', () => bcrypt.hashSync('x', 4));
        await attempt('async function answer', () => bcrypt.compare('x', 'y'));
        await attempt('blocking function answer', () => bcrypt.compareSync('x', 'y'));
        await attempt('sync throw', () => { new URL('http://a/').pathname = '/b'; });
        await attempt('async socket answer', () => new pg.Client({}).connect());
        await attempt('reject with undefined', () => new pg.Pool({}).query('select 1'));
        return out;
      }`,
      { expect: true },
    );
    const results = valueOf<string[][]>(outcome);
    assert.equal(results.length, 7);
    for (const [name, message, stack] of results) {
      assert.ok(stack, `${name}: the script got an error (${message})`);
      assert.doesNotMatch(`${message}\n${stack}`, /getter|isolated-vm boundary|\.ts:|stdout|function|Symbol|writeAfterFIN/, `${name}: ${message}\n${stack}`);
      for (const line of stack!.split('\n').slice(1)) assert.match(line, /ferry:runtime\.js|file:\/\/\/scripts\/main\.js/, `${name}: ${line}`);
    }
  });

  test('an operation that rejects after the execution ended, or never settles, leaves no unhandled rejection', async () => {
    await harness.attack(`async function main() { require('mysql2/promise').createConnection({}).catch(() => {}); return 'left it'; }`, { expect: true });
    await harness.attack(`async function main() { await require('mysql2/promise').createConnection({}); }`, { expect: 'timeout', limits: { timeoutMs: 150 } });
    await harness.attack(`async function main() { await require('mysql2/promise').createPool({}).query('select 1'); }`, {
      expect: 'timeout',
      limits: { timeoutMs: 200 },
    });
    await sleep(400);
    assert.ok(late.length >= 1, 'the late operations did settle');
    await harness.healthy();
  });
});
