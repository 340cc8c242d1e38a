import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How ferry_breaker_state encodes a circuit breaker's state. */
export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** Prometheus metrics for one Ferry process, served at /metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ferry_' });
  const metrics = {
    registry,
    logins: new Counter({
      name: 'ferry_logins_total',
      help: 'Sign-in attempts by outcome (success, invalid_credentials, unavailable, throttled, conflict, invalid_identifier) and path (local, legacy, passkey: a sign-in with a passkey alone).',
      labelNames: ['outcome', 'path'] as const,
      registers: [registry],
    }),
    migrations: new Counter({
      name: 'ferry_migrations_total',
      help: 'Lazy migrations by result (created, existing, conflict).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    scripts: new Counter({
      name: 'ferry_script_executions_total',
      help: 'Script executions by script and outcome (ok or a failure kind; skipped when the breaker was open).',
      labelNames: ['script', 'outcome'] as const,
      registers: [registry],
    }),
    scriptDuration: new Histogram({
      name: 'ferry_script_duration_seconds',
      help: 'Script execution time, from the request to run it to its outcome.',
      labelNames: ['script'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    breaker: new Gauge({
      name: 'ferry_breaker_state',
      help: 'Circuit breaker of the connection, as it is when sampled: 0 closed, 1 half-open, 2 open.',
      labelNames: ['connection'] as const,
      registers: [registry],
    }),
    scriptsRunning: new Gauge({
      name: 'ferry_scripts_running',
      help: 'Script executions running (or waiting for a place) now.',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    isolates: new Gauge({
      name: 'ferry_sandbox_isolates',
      help: 'Sandbox isolates by state (alive, idle, waiting for one).',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    sandboxBroken: new Gauge({
      name: 'ferry_sandbox_broken',
      help: '1 while no script can run: after a catastrophic isolate error with sandboxProcesses 0 (restart the instance), or while sandbox processes keep failing to start.',
      registers: [registry],
    }),
    sandboxProcesses: new Gauge({
      name: 'ferry_sandbox_processes',
      help: 'Sandbox processes running scripts, by state (ready, starting); none with sandboxProcesses 0.',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    sandboxProcessRestarts: new Gauge({
      name: 'ferry_sandbox_process_restarts',
      help: 'Sandbox processes replaced since start, by reason (exit, fatal, rss, unresponsive).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    storePool: new Gauge({
      name: 'ferry_store_pool_connections',
      help: "Ferry's own PostgreSQL connection pool (not with PGlite): connections by state (total, idle), and queries waiting for one (waiting).",
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    storeQueries: new Counter({
      name: 'ferry_store_queries_total',
      help: "Statements this instance sent to Ferry's own database (inside transactions too).",
      registers: [registry],
    }),
    storeTransactions: new Counter({
      name: 'ferry_store_transactions_total',
      help: "Explicit transactions this instance ran on Ferry's own database (a statement outside one is its own).",
      registers: [registry],
    }),
    legacyPool: new Gauge({
      name: 'ferry_legacy_pool_connections',
      help: 'Pooled connections to legacy databases kept by the sandbox, by state (total, idle, waiting).',
      labelNames: ['driver', 'state'] as const,
      registers: [registry],
    }),
    mailQueued: new Counter({
      name: 'ferry_mail_queued_total',
      help: 'Mails put in the outbox, by template; held="true" when no SMTP server is configured (never sent).',
      labelNames: ['template', 'held'] as const,
      registers: [registry],
    }),
    mailSent: new Counter({
      name: 'ferry_mail_sent_total',
      help: 'Mails delivered to the SMTP server by this instance, by template.',
      labelNames: ['template'] as const,
      registers: [registry],
    }),
    mailFailed: new Counter({
      name: 'ferry_mail_failed_total',
      help: 'Failed delivery attempts by this instance, by template; final="true" when the mail was given up.',
      labelNames: ['template', 'final'] as const,
      registers: [registry],
    }),
    mailOutbox: new Gauge({
      name: 'ferry_mail_outbox',
      help: 'Mails in the outbox (all instances) by status: queued, sending, sent, failed, held.',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
