import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BadRequest, Conflict } from '../../errors.ts';
import { isTemplateKind, TEMPLATE_KINDS, TEMPLATES, TEMPLATES_DIR, templateFiles } from '../../admin/library/templates.ts';
import type { Output } from '../output.ts';

/** `ferry init --template <kind> [--dir hooks] [--force]`: a template's scripts and schema, copied for editing. */
export async function init(
  options: { template?: string | undefined; dir?: string | undefined; force?: boolean | undefined; cwd: string },
  out: Output,
): Promise<number> {
  if (!isTemplateKind(options.template)) {
    throw new BadRequest(`Choose a template with --template: ${TEMPLATE_KINDS.join(', ')}.`, 'usage');
  }
  const kind = options.template;
  const folder = resolve(options.cwd, options.dir ?? 'hooks');
  const files = templateFiles(kind);
  const shown = (file: string) => relative(options.cwd, join(folder, file)) || file;
  const existing = files.filter((file) => existsSync(join(folder, file)));
  if (existing.length > 0 && !options.force) {
    throw new Conflict(`These files exist already: ${existing.map(shown).join(', ')}. Nothing was written; add --force to overwrite them.`, 'files_exist');
  }
  await mkdir(folder, { recursive: true });
  for (const file of files) {
    await copyFile(join(TEMPLATES_DIR, kind, file), join(folder, file));
    out.line(`${existing.includes(file) ? 'overwrote' : 'wrote'} ${shown(file)}`);
  }
  const dir = `./${relative(options.cwd, folder) || '.'}`;
  out.line();
  out.line(`The ${TEMPLATES[kind]} template is in ${dir}. Next:`);
  out.line(`  1. Point the connection at it in ferry.config.json: "connection": { "enabled": true, "scriptsDir": "${dir}", "env": { … } }`);
  out.line(`  2. Try the login script: ferry test-script login --identifier someone@example.com --password-stdin`);
  return 0;
}
