import { randomUUID } from 'node:crypto';
import type { MailConfig } from '../config/schema.ts';
import { redact, type Logger } from '../log.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Database } from '../store/db.ts';
import { createMailOutboxQueries, type OutboxRow } from '../store/queries/mail-outbox.ts';
import { createMailTemplates } from './templates.ts';
import { createSmtpTransport, type MailTransport } from './transport.ts';

/** Mails one instance takes from the outbox at a time. */
const BATCH = 10;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export interface MailDeps {
  config: MailConfig;
  issuer: string;
  db: Database;
  log: Logger;
  metrics?: Pick<Metrics, 'mailQueued' | 'mailSent' | 'mailFailed' | 'mailOutbox'> | undefined;
  /** Without one, `config.smtpUrl` makes the SMTP transport (tests pass none). */
  transport?: MailTransport | undefined;
}

/**
 * Ferry's outgoing mail. `send` renders a template and puts the mail in the outbox table (so a
 * crash or an SMTP outage loses nothing); the sender loop of every instance (`start`) takes due
 * mails, delivers them over SMTP and records the result, retrying with backoff. Without an SMTP
 * server the mail is stored as held, for the console to show, and nothing is sent.
 */
export function createMail(deps: MailDeps) {
  const { config, log, metrics } = deps;
  const queries = createMailOutboxQueries(deps.db);
  const templates = createMailTemplates({ overrideDir: config.templatesDir });
  const transport =
    deps.transport ?? (config.smtpUrl && config.from ? createSmtpTransport({ ...config, smtpUrl: config.smtpUrl, from: config.from }) : undefined);
  const domain = new URL(deps.issuer).hostname || 'ferry';
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const retryDelay = (attempts: number) => Math.min(config.retry.baseDelaySeconds * 2 ** (attempts - 1), config.retry.maxDelaySeconds);

  const deliver = async (mail: OutboxRow, via: MailTransport) => {
    try {
      await via.send({ to: mail.recipient, subject: mail.subject, text: mail.text_body ?? '', html: mail.html_body ?? undefined, messageId: mail.message_id });
    } catch (error) {
      const message = String(redact((error as Error).message ?? error));
      const final = mail.attempts >= config.retry.maxAttempts;
      await queries.markFailed(mail.id, message, final ? undefined : retryDelay(mail.attempts));
      metrics?.mailFailed.inc({ template: mail.template, final: String(final) });
      log.warn(
        { mail: mail.id, template: mail.template, attempts: mail.attempts, final, error: message },
        final ? 'mail given up' : 'mail not delivered, will retry',
      );
      return;
    }
    await queries.markSent(mail.id);
    metrics?.mailSent.inc({ template: mail.template });
    log.info({ mail: mail.id, template: mail.template, attempts: mail.attempts }, 'mail sent');
  };

  /** Sends due mails, a batch at a time, until none is due. */
  const drain = async (via: MailTransport) => {
    for (;;) {
      if (stopped) return;
      const batch = await queries.claim(BATCH, config.leaseSeconds);
      for (const mail of batch) await deliver(mail, via);
      if (batch.length < BATCH) return;
    }
  };

  /** One drain at a time per instance; a kick during one runs another right after it. */
  const kick = (): Promise<void> => {
    if (!transport || stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = drain(transport)
      .catch((error: unknown) => log.warn({ err: error }, 'mail outbox check failed'))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          void kick();
        }
      });
    return running;
  };

  return {
    /** True when mail leaves Ferry (an SMTP server is configured). */
    enabled: transport !== undefined,

    /** Renders `template` for `to` and queues it (held without SMTP); resolves once it is stored. */
    async send(template: string, to: string, data: Record<string, unknown> = {}): Promise<number> {
      const rendered = await templates.render(template, { issuer: deps.issuer, ...data });
      const id = await queries.insert({
        template,
        recipient: to,
        ...rendered,
        messageId: `<${randomUUID()}@${domain}>`,
        status: transport ? 'queued' : 'held',
      });
      metrics?.mailQueued.inc({ template, held: String(!transport) });
      void kick();
      return id;
    },

    /** Starts the sender loop (and the outbox clean-up); `demo` says whether a missing SMTP server is expected. */
    start(options: { demo: boolean }): void {
      if (!transport && !options.demo) {
        log.warn('mail.smtpUrl is not set: Ferry sends no mail, so password reset is off (mails are kept as held in the console outbox)');
      }
      const every = (ms: number, task: () => Promise<unknown>) => {
        const timer = setInterval(() => void task().catch((error: unknown) => log.warn({ err: error }, 'mail outbox task failed')), ms);
        timer.unref();
        timers.push(timer);
      };
      if (transport) every(config.pollIntervalMs, kick);
      every(PRUNE_EVERY_MS, () => queries.prune(config.retentionDays));
      void kick();
    },

    /** Waits for a send in progress, then stops; mails left are sent by another instance or after a restart. */
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      await running;
      transport?.close();
    },

    /** Sends what is due now (tests, and the loop's own tick). */
    flush: kick,

    async sampleGauges(): Promise<void> {
      if (!metrics) return;
      for (const [status, count] of Object.entries(await queries.counts())) metrics.mailOutbox.set({ status }, count);
    },
  };
}

export type Mail = ReturnType<typeof createMail>;
