import { createHash } from 'node:crypto';
import type { Metrics } from '../ops/metrics.ts';
import type { Outcome, Sandbox } from '../sandbox/index.ts';
import { maskSecrets, secretValues } from '../sandbox/secrets.ts';
import { createBreaker, createLimiter, type Breaker } from './breaker.ts';
import type { Connection, ScriptName } from './connection.ts';
import type { ExecutionLog } from './execution-log.ts';
import type { ConnectionSettings } from './settings.ts';

/** What scripts receive as their last argument (GenAuth's `context`). */
export interface ScriptContext {
  userPoolId: string;
  userPoolName: string;
  userPoolMetadata: Record<string, unknown>;
  appId: string | undefined;
  appName: string | undefined;
  appMetadata: Record<string, unknown>;
  application: string;
  request: { ip: string | undefined; geo: Record<string, unknown>; body: Record<string, string> };
}

export interface RunOptions {
  /** A draft to run instead of the saved script (the console's Test button). */
  source?: string | undefined;
  validate?: (value: unknown) => string | undefined;
  /** Keep this execution out of the execution log. */
  unlogged?: boolean;
  /** Neither stopped by nor counted in the circuit breaker (the console's Test button). */
  unguarded?: boolean;
  /** Values (the password) replaced by MASK in the console lines and message before they are logged. */
  secrets?: readonly string[];
  /** The login's password, to learn the legacy bcrypt hash it was verified against (RunRequest.watchPassword). */
  watchPassword?: string | undefined;
}

/**
 * Runs a connection's scripts in the sandbox and writes each execution to the log. Per connection
 * (and per legacy address: a change of `env` starts afresh) a circuit breaker skips scripts while
 * the legacy database is down, and a limiter caps how many run at once.
 */
export function createScriptRunner(deps: { sandbox: Sandbox; settings: ConnectionSettings; executions: ExecutionLog; metrics?: Metrics | undefined }) {
  const guards = new Map<string, { breaker: Breaker; limiter: ReturnType<typeof createLimiter> }>();
  const guardOf = (connection: Connection) => {
    const key = createHash('sha256')
      .update(JSON.stringify([connection.id, connection.env, connection.breaker, connection.maxConcurrentScripts]))
      .digest('base64url');
    let guard = guards.get(key);
    if (!guard) {
      if (guards.size > 16) guards.clear();
      const breaker = createBreaker({ failureThreshold: connection.breaker.failureThreshold, openMs: connection.breaker.openSeconds * 1000 });
      guard = { breaker, limiter: createLimiter(connection.maxConcurrentScripts) };
      guards.set(key, guard);
    }
    return guard;
  };
  const skipped = <T>(message: string): Outcome<T> => ({ ok: false, kind: 'unavailable', message, logs: [], durationMs: 0 });

  return {
    async run<T>(connection: Connection, name: ScriptName, args: unknown[], options: RunOptions = {}): Promise<Outcome<T>> {
      const { breaker, limiter } = guardOf(connection);
      if (!options.unguarded && !breaker.allow()) {
        deps.metrics?.scripts.inc({ script: name, outcome: 'skipped' });
        return skipped('The legacy database is unavailable; the circuit breaker is open.');
      }
      const deadline = Date.now() + connection.limits.timeoutMs;
      if (!(await limiter.acquire(deadline))) {
        if (!options.unguarded) breaker.abandon();
        return skipped(`Too many scripts are running for this connection (the limit is ${connection.maxConcurrentScripts}).`);
      }
      let outcome: Outcome<T>;
      try {
        const source = options.source ?? (await deps.settings.script(name)).source;
        outcome = await deps.sandbox.run<T>({
          name,
          source,
          args,
          env: connection.env,
          limits: connection.limits,
          egress: connection.egress,
          // The wait for a turn counts against the deadline; the limits themselves stay as
          // configured, since the pools of legacy connections are keyed by settings derived from them.
          deadline: Math.max(Date.now() + 100, deadline),
          ...(options.validate ? { validate: options.validate } : {}),
          ...(options.watchPassword !== undefined ? { watchPassword: options.watchPassword } : {}),
        });
      } finally {
        limiter.release();
      }
      if (!options.unguarded) breaker.record(outcome.ok ? 'ok' : outcome.kind);
      deps.metrics?.scripts.inc({ script: name, outcome: outcome.ok ? 'ok' : outcome.kind });
      deps.metrics?.scriptDuration.observe({ script: name }, outcome.durationMs / 1000);
      // The message and console lines go on to the log, the admin API's errors and, with
      // showScriptErrors, the sign-in page: none of them may show a secret.
      const masked = maskOutcome(outcome, [...(options.secrets ?? []), ...secretValues(connection.env)]);
      if (!options.unlogged) deps.executions.record(connection.id, name, masked);
      return masked;
    },

    /** Breaker state and load per connection, for metrics and the console. */
    status(connection: Connection) {
      const { breaker, limiter } = guardOf(connection);
      return { breaker: breaker.state, running: limiter.active, waiting: limiter.waiting };
    },
  };
}

export type ScriptRunner = ReturnType<typeof createScriptRunner>;

/**
 * The outcome as logged: console lines and message with the password and the connection's secrets
 * masked, so that a script printing env.DB_PASSWORD does not put it in a log that every admin can read.
 */
function maskOutcome<T>(outcome: Outcome<T>, secrets: readonly string[]): Outcome<T> {
  const mask = (text: string) => maskSecrets(text, secrets);
  const logs = outcome.logs.map((line) => ({ ...line, message: mask(line.message) }));
  return outcome.ok ? { ...outcome, logs } : { ...outcome, logs, message: mask(outcome.message) };
}

/** The `context` argument for a request (the password is never part of `request.body`). */
export function scriptContext(
  issuer: string,
  request: { ip?: string | undefined; clientId?: string | undefined; clientName?: string | undefined; body?: Record<string, string> | undefined },
): ScriptContext {
  const { password: _password, password_confirm: _confirm, csrf: _csrf, ...body } = request.body ?? {};
  return {
    userPoolId: 'ferry',
    userPoolName: new URL(issuer).host,
    userPoolMetadata: {},
    appId: request.clientId,
    appName: request.clientName,
    appMetadata: {},
    application: 'ferry',
    request: { ip: request.ip, geo: {}, body },
  };
}
