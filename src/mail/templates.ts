import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ejs from 'ejs';
import { VIEWS_DIR } from '../web/views.ts';

export const MAIL_VIEWS_DIR = join(VIEWS_DIR, 'mail');

export interface RenderedMail {
  subject: string;
  text: string;
  html: string | undefined;
}

/**
 * The mails' EJS templates: `<dir>/<name>/{subject,text,html}.ejs`, each file taken from
 * `overrideDir` when it has one and from Ferry's views/mail/ otherwise. The subject is one line;
 * the HTML part is optional. Text templates write values with `<%-` (no HTML escaping), HTML
 * templates with `<%=`.
 */
export function createMailTemplates(options: { overrideDir?: string | undefined } = {}) {
  const fileOf = (name: string, part: string): string | undefined => {
    for (const dir of [options.overrideDir, MAIL_VIEWS_DIR]) {
      if (!dir) continue;
      const file = join(dir, name, `${part}.ejs`);
      if (existsSync(file)) return file;
    }
    return undefined;
  };
  const render = (file: string, data: Record<string, unknown>) => ejs.renderFile(file, data, { async: false, cache: false });

  return {
    async render(name: string, data: Record<string, unknown>): Promise<RenderedMail> {
      if (!/^[a-z][a-z0-9-]{0,63}$/.test(name)) throw new Error(`invalid mail template name ${name}`);
      const subjectFile = fileOf(name, 'subject');
      const textFile = fileOf(name, 'text');
      if (!subjectFile || !textFile) throw new Error(`the mail template ${name} needs subject.ejs and text.ejs`);
      const htmlFile = fileOf(name, 'html');
      return {
        subject: (await render(subjectFile, data)).replace(/\s+/g, ' ').trim(),
        text: await render(textFile, data),
        html: htmlFile ? await render(htmlFile, data) : undefined,
      };
    },
  };
}

export type MailTemplates = ReturnType<typeof createMailTemplates>;
