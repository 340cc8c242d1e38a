import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from './ferry.ts';

export const SMTP_USER = 'ferry-mailer';
export const SMTP_PASSWORD = 'smtp-password-never-logged';

export interface Received {
  to: string[];
  messageId: string;
  subject: string;
  text: string;
  html: string;
  from: string;
  parsed: ParsedMail;
}

/**
 * A real SMTP server on a loopback port (the smtp-server package), requiring AUTH PLAIN/LOGIN with
 * SMTP_USER/SMTP_PASSWORD over plain text. Every accepted message is parsed with mailparser and
 * kept in `received`. `stop()` and `start()` take it down and back up on the same port (an outage).
 */
export async function startSmtpServer(): Promise<{
  url: string;
  port: number;
  received: Received[];
  stop(): Promise<void>;
  start(): Promise<void>;
  waitFor(predicate: (mail: Received) => boolean, timeoutMs?: number): Promise<Received>;
}> {
  const port = await freePort();
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  let server: SMTPServer | undefined;

  const make = () =>
    new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) return callback(null, { user: auth.username });
        return callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            received.push({
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              messageId: parsed.messageId ?? '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              from: parsed.from?.text ?? '',
              parsed,
            });
            for (const wake of waiters) wake();
            callback();
          })
          .catch(callback);
      },
    });

  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = make();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const closing = server;
      server = undefined;
      if (!closing) return resolve();
      closing.close(() => resolve());
    });

  await start();
  return {
    url: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${port}`,
    port,
    received,
    start,
    stop,
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(predicate);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching mail within ${timeoutMs} ms (received ${received.length})`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
}
