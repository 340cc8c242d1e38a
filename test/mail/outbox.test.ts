import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { createMail } from '../../src/mail/index.ts';
import { openDatabase, type Database } from '../../src/store/index.ts';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { beginAuthorization, relyingParty } from '../helpers/relying-party.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';
import { SMTP_PASSWORD, startSmtpServer } from '../helpers/smtp.ts';

/** Polls `check` until it returns something truthy (the sender loop runs on its own). */
async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('mail through the outbox to a real SMTP server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ferry: TestFerry;

  before(async () => {
    smtp = await startSmtpServer();
    ferry = await startFerry({
      adminToken: ADMIN_TOKEN,
      mail: { smtpUrl: smtp.url, from: 'Ferry <no-reply@ferry.test>', pollIntervalMs: 100, retry: { baseDelaySeconds: 1, maxDelaySeconds: 1 } },
    });
  });
  after(async () => {
    await ferry?.stop();
    await smtp?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('delivers a rendered mail (text and HTML) and records it as sent, without its body', async () => {
    const id = await ferry.ferry.mail.send('password-changed', 'ada@example.com', { signedOut: true });
    const mail = await smtp.waitFor((received) => received.to.includes('ada@example.com'));
    assert.equal(mail.subject, 'Your password was changed');
    assert.deepEqual(
      mail.parsed.from?.value.map(({ name, address }) => ({ name, address })),
      [{ name: 'Ferry', address: 'no-reply@ferry.test' }],
    );
    assert.match(mail.text, new RegExp(`account at ${ferry.issuer.replace(/[.]/g, '\\.')} was changed`));
    assert.match(mail.text, /signed out everywhere/);
    assert.match(mail.html, /<p>You were signed out everywhere/);

    const api = adminClient(ferry);
    const outbox = await eventually(async () => {
      const answer = await api.get('/mail/outbox');
      const row = answer.body.items.find((item: { id: number }) => item.id === id);
      return row?.status === 'sent' ? answer : undefined;
    }, 'the outbox to show the mail as sent');
    assert.equal(outbox.body.sending, true);
    const row = outbox.body.items.find((item: { id: number }) => item.id === id);
    assert.equal(row.attempts, 1);
    assert.equal(row.text, null, 'a sent mail keeps no body (it may hold a reset link)');

    const metrics = await (await fetch(`${ferry.issuer}/metrics`)).text();
    assert.match(metrics, /ferry_mail_sent_total\{template="password-changed"\} 1/);
    assert.match(metrics, /ferry_mail_outbox\{status="sent"\} 1/);
  });

  it('keeps a mail through an SMTP outage and delivers it once the server is back', async () => {
    await smtp.stop();
    const api = adminClient(ferry);
    const before = smtp.received.length;
    const id = await ferry.ferry.mail.send('password-changed', 'outage@example.com');
    const failed = await eventually(async () => {
      const row = (await api.get('/mail/outbox')).body.items.find((item: { id: number }) => item.id === id);
      return row?.attempts >= 2 && row.status === 'queued' ? row : undefined;
    }, 'two failed attempts while the SMTP server is down');
    assert.ok(failed.lastError, 'the failure is recorded');
    assert.ok(failed.text, 'the mail is kept whole while it waits');

    await smtp.start();
    const mail = await smtp.waitFor((received) => received.to.includes('outage@example.com'));
    assert.equal(mail.subject, 'Your password was changed');
    await eventually(
      async () => (await api.get('/mail/outbox')).body.items.find((item: { id: number; status: string }) => item.id === id && item.status === 'sent'),
      'sent',
    );
    assert.equal(smtp.received.length, before + 1, 'delivered once, nothing else sent');

    const metrics = await (await fetch(`${ferry.issuer}/metrics`)).text();
    assert.match(metrics, /ferry_mail_failed_total\{template="password-changed",final="false"\} [1-9]/);
    assert.ok(!api.seen().includes(SMTP_PASSWORD), 'the SMTP password appears in no answer');
  });
});

describe('without an SMTP server', () => {
  let ferry: TestFerry;
  before(async () => {
    ferry = await startFerry({ adminToken: ADMIN_TOKEN });
  });
  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('holds mails and shows them, body included, in the API and the console outbox', async () => {
    await ferry.ferry.mail.send('password-changed', 'held@example.com');
    const answer = await adminClient(ferry).get('/mail/outbox?status=held');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.sending, false);
    assert.equal(answer.body.items.length, 1);
    assert.equal(answer.body.items[0].to, 'held@example.com');
    assert.match(answer.body.items[0].text, /was changed/);

    const browser = new Browser();
    const login = await browser.get(`${ferry.issuer}/console/login`);
    await browser.submit(login, '/console/login', { token: ADMIN_TOKEN });
    const page = await browser.get(`${ferry.issuer}/console/outbox`);
    assert.equal(page.status, 200);
    assert.match(page.html, /id="mail-off"/);
    assert.match(page.html, /held@example\.com/);
    assert.match(page.html, /<pre class="mail-text">[^<]*was changed/);
  });

  it('says on the "Forgot password?" page that password reset is off, outside the demo', async () => {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, await relyingParty(ferry), browser);
    const forgot = await browser.get(new URL(/<a href="([^"]+)">Forgot password\?<\/a>/.exec(page.html)![1]!, page.url).href);
    assert.match(forgot.html, /id="reset-unavailable"/);
    assert.doesNotMatch(forgot.html, /action="[^"]*\/forgot"/, 'no form that would pretend to send a mail');
  });
});

describe('two outbox senders over one PostgreSQL store', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const stores: Database[] = [];

  before(async () => {
    await postgresReachable();
    database = await createPostgresDatabase();
    smtp = await startSmtpServer();
  });
  after(async () => {
    for (const db of stores) await db.close();
    await smtp?.stop();
    await database?.drop();
  });

  it('sends each mail exactly once', async () => {
    const config = parseConfig({ demo: false, databaseUrl: database.url, mail: { smtpUrl: smtp.url, from: 'no-reply@ferry.test', pollIntervalMs: 50 } });
    const log = createLogger({ level: 'silent' });
    const senders = [];
    for (let i = 0; i < 2; i++) {
      const db = await openDatabase({ databaseUrl: database.url, dataDir: '/nonexistent' });
      stores.push(db);
      senders.push(createMail({ config: config.mail, issuer: 'http://ferry.test', db, log }));
    }
    const [a, b] = senders as [ReturnType<typeof createMail>, ReturnType<typeof createMail>];
    const count = 40;
    // Queued by one, with both loops polling: each takes what the other has not leased.
    a.start({ demo: true });
    b.start({ demo: true });
    await Promise.all(Array.from({ length: count }, (_, i) => (i % 2 ? a : b).send('password-changed', `user${i}@example.com`)));
    await eventually(async () => smtp.received.length >= count || undefined, `${count} mails`);
    await Promise.all([a.flush(), b.flush()]);
    await sleep(300);
    await Promise.all([a.stop(), b.stop()]);

    const ids = smtp.received.map((mail) => mail.messageId);
    assert.equal(ids.length, count, 'no mail sent twice');
    assert.equal(new Set(ids).size, count);
    const recipients = new Set(smtp.received.flatMap((mail) => mail.to));
    assert.equal(recipients.size, count, 'every mail sent');
  });
});
