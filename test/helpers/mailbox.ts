import assert from 'node:assert/strict';
import { Browser, type Page } from './browser.ts';
import type { startSmtpServer } from './smtp.ts';

export type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

/** The mailbox of the real SMTP server, as the people the mails go to read it. */
export function mailbox(smtp: () => Smtp) {
  const mailsTo = (address: string, subject: string) => smtp().received.filter((mail) => mail.to.includes(address) && mail.subject === subject);
  /** The mail with `subject` to `address` after the `seen` first ones. */
  const next = async (address: string, subject: string, seen: number) => {
    await smtp().waitFor(() => mailsTo(address, subject).length > seen);
    return mailsTo(address, subject)[seen]!;
  };
  const linkIn = (text: string) => {
    const link = /(http\S+\/account\/verify\?token=[A-Za-z0-9_-]+)/.exec(text)?.[1];
    assert.ok(link, `a verification link in the mail:\n${text}`);
    return link;
  };
  /** Opens the mailed link in a new browser (the mail app's) and presses its button. */
  const confirm = async (link: string): Promise<Page> => {
    const browser = new Browser();
    const page = await browser.get(link);
    if (page.status !== 200) return page;
    return browser.submit(page, '/account/verify');
  };
  return { mailsTo, next, linkIn, confirm };
}
