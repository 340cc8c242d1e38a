import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Middleware } from 'koa';

const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

/** Serves the files of `dir` under `/static/` (and its favicon.svg as /favicon.ico), read once at start (so no path ever reaches the disk). */
export function staticFiles(dir: string): Middleware {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/static/${name}`, { body: readFileSync(join(dir, name)), type });
  }
  // Browsers ask for /favicon.ico on every page that names no icon (and some whatever the page says).
  const icon = files.get('/static/favicon.svg');
  if (icon) files.set('/favicon.ico', icon);
  return async (ctx, next) => {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.type = file.type;
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = file.body;
  };
}
