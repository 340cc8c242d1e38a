import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/log.ts';
import { createSandbox, type EgressInput, type FailureKind, type LimitsInput, type Outcome, type SandboxOptions } from '../../src/sandbox/index.ts';

/** Tight limits, so that every attack ends fast: the deadline bound below is tied to them. */
export const ATTACK_LIMITS = { timeoutMs: 1000, cpuTimeMs: 500, memoryMb: 64 } satisfies LimitsInput;

/** The longest an attack may take: twice its wall-clock deadline plus a second of slack. */
export function boundFor(limits: LimitsInput): number {
  return Number(limits.timeoutMs ?? 10_000) * 2 + 1000;
}

type Expected = 'ok' | FailureKind;

export interface AttackOptions {
  /** `true` for an attack that must finish normally, else the outcomes it may end with ('ok' or failure kinds). */
  expect: true | Expected | readonly Expected[];
  limits?: LimitsInput;
  egress?: EgressInput;
  args?: unknown[];
  env?: Record<string, string>;
  validate?: (value: unknown) => string | undefined;
}

/** Text that would mean a host detail reached the script or the outcome. */
const HOST_MARKERS = ['/work/', 'node_modules', 'node:internal', '/src/sandbox', process.cwd()];

export function assertRevealsNothing(value: unknown): void {
  const text = JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? String(item) : item)) ?? '';
  for (const marker of HOST_MARKERS) assert.ok(!text.includes(marker), `host detail ${JSON.stringify(marker)} leaked: ${text.slice(0, 500)}`);
}

/**
 * One sandbox with the probes every attack is followed by: a normal script still runs and gives
 * the right answer, Node's event loop still turns, an HTTP server in this process still answers,
 * and no promise rejection went unhandled.
 */
export async function createHarness(options: Partial<SandboxOptions> = {}) {
  const fatal: string[] = [];
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 2, onFatal: (message) => fatal.push(message), ...options });
  const server = createServer((_request, response) => response.end('pong'));
  const port = await listen(server);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);

  async function run(source: string, options: Omit<AttackOptions, 'expect'> = {}): Promise<Outcome> {
    return sandbox.run({
      name: 'main',
      source,
      args: options.args ?? [],
      env: options.env ?? {},
      limits: { ...ATTACK_LIMITS, ...options.limits },
      ...(options.egress ? { egress: options.egress } : {}),
      ...(options.validate ? { validate: options.validate } : {}),
    });
  }

  async function healthy(): Promise<void> {
    assert.deepEqual(fatal, [], 'isolated-vm never lost control of an isolate');
    const outcome = await run(
      `async function main(numbers) {
        const _ = require('lodash');
        await new Promise((resolve) => setTimeout(resolve, 1));
        const salt = await require('bcrypt').genSalt(4);
        return { sum: _.sum(numbers), hex: Buffer.from('hi').toString('hex'), url: new URL('/x?a=1', 'http://h').href, salt: salt.slice(0, 7), polluted: typeof ({}).polluted };
      }`,
      { args: [[1, 2, 3]] },
    );
    assert.deepEqual(
      outcome.ok ? outcome.value : outcome,
      { sum: 6, hex: '6869', url: 'http://h/x?a=1', salt: '$2b$04$', polluted: 'undefined' },
      'a normal script still runs',
    );
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(performance.now() - started < 200, `the event loop is responsive (a 10 ms timer took ${Math.round(performance.now() - started)} ms)`);
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    assert.equal(await response.text(), 'pong', 'an HTTP server in the host process still answers');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype of the host is untouched');
    assert.deepEqual(unhandled, [], 'no promise rejection went unhandled in the host');
  }

  /** Runs an attack, checks it is contained (kind, deadline, nothing of the host revealed), then checks health. */
  async function attack(source: string, options: AttackOptions): Promise<Outcome> {
    const limits = { ...ATTACK_LIMITS, ...options.limits };
    const started = performance.now();
    const outcome = await run(source, { ...options, limits });
    const elapsed = performance.now() - started;
    const bound = boundFor(limits);
    assert.ok(elapsed < bound, `the attack ended in ${Math.round(elapsed)} ms, over its bound of ${bound} ms`);
    assert.ok(outcome.durationMs < bound, `durationMs ${outcome.durationMs} is over ${bound} ms`);
    const allowed: readonly Expected[] = options.expect === true ? ['ok'] : typeof options.expect === 'string' ? [options.expect] : options.expect;
    const got = outcome.ok ? 'ok' : outcome.kind;
    assert.ok(
      allowed.includes(got),
      `expected ${allowed.join(' or ')}, got ${outcome.ok ? `ok: ${JSON.stringify(outcome.value)?.slice(0, 300)}` : `${outcome.kind}: ${outcome.message}`}`,
    );
    assertRevealsNothing(outcome);
    await healthy();
    return outcome;
  }

  return {
    sandbox,
    port,
    run,
    attack,
    healthy,
    async close() {
      process.off('unhandledRejection', onUnhandled);
      await sandbox.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

export function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

/** The value of a successful outcome (fails the test otherwise). */
export function valueOf<T = unknown>(outcome: Outcome): T {
  assert.ok(outcome.ok, `expected success, got ${outcome.ok ? '' : `${outcome.kind}: ${outcome.message}`}`);
  return outcome.value as T;
}
