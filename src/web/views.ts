import { join } from 'node:path';
import ejs from 'ejs';

export const VIEWS_DIR = join(import.meta.dirname, '..', '..', 'views');

/** Renders the EJS pages in `views/`; compiled templates are cached unless `cache` is false. */
export function createViews(options: { dir?: string; cache?: boolean } = {}) {
  const dir = options.dir ?? VIEWS_DIR;
  return {
    render(name: string, data: Record<string, unknown> = {}): Promise<string> {
      return ejs.renderFile(join(dir, `${name}.ejs`), { title: 'Ferry', ...data }, { cache: options.cache ?? true, async: false });
    },
  };
}

export type Views = ReturnType<typeof createViews>;
