import nodemailer from 'nodemailer';
import type { MailConfig } from '../config/schema.ts';

export interface Envelope {
  to: string;
  subject: string;
  text: string;
  html: string | undefined;
  messageId: string;
}

export interface MailTransport {
  send(mail: Envelope): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer, from `mail.smtpUrl`. Timeouts are short enough (10 s to connect and
 * greet, 30 s without a byte) that a send always ends well inside the outbox lease.
 */
export function createSmtpTransport(config: MailConfig & { smtpUrl: string; from: string }): MailTransport {
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    requireTLS: config.requireTls,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // Nodemailer's own logger stays off: its lines could carry the AUTH exchange.
    logger: false,
  });
  return {
    async send(mail) {
      await transport.sendMail({ from: config.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
    },
    close: () => transport.close(),
  };
}
