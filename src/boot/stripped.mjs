/**
 * Loaded with `--import` by `npm start`, the `ferry` command and the image: Ferry's own `.ts`
 * modules load as JavaScript stripped beforehand, so the server process does not load Node's
 * TypeScript stripper (amaro, a WebAssembly build of SWC kept for the life of the process: about
 * 30 MB of resident memory; docs/memory.md). Plain JavaScript, so that loading it loads no stripper.
 *
 * At start every `.ts` file under src/ is read and hashed; what is not in the cache
 * (node_modules/.cache/ferry/, per Node version) with that hash is stripped by strip.mjs in a
 * short-lived process of its own and the cache rewritten (the image fills it when it is built; a
 * cache that cannot be written only costs that process at each start). The modules then load from
 * the files as they were read at start. Anything else, or anything that failed here, is loaded
 * by Node as usual: slower to start and bigger, never different.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveModules } from './serve-modules.mjs';

const SRC = new URL('../', import.meta.url);
const CACHE_DIR = new URL('../../node_modules/.cache/ferry/', import.meta.url);
const CACHE = new URL(`stripped-${process.version}.json`, CACHE_DIR);
const STRIPPER = new URL('./strip.mjs', import.meta.url);

const report = { served: 0, missed: [], stripped: 0, cacheWritten: false, error: undefined };
/** @type {Map<string, string>} file URL → JavaScript */
const sources = new Map();
globalThis[Symbol.for('ferry.stripped')] = { report, sources };

const digest = (text) => createHash('sha256').update(text).digest('base64url');

try {
  /** @type {Record<string, { hash: string, js: string }>} */
  let cache = {};
  try {
    cache = JSON.parse(readFileSync(CACHE, 'utf8'));
  } catch {
    // No cache yet (or an unreadable one): everything is stripped below.
  }
  const hashes = new Map();
  for (const file of readdirSync(SRC, { recursive: true })) {
    if (!file.endsWith('.ts')) continue;
    const url = new URL(file, SRC).href;
    hashes.set(url, digest(readFileSync(new URL(url), 'utf8')));
  }
  const stale = [...hashes].filter(([url, hash]) => cache[url]?.hash !== hash).map(([url]) => url);
  if (stale.length > 0) {
    const fresh = JSON.parse(
      execFileSync(process.execPath, ['--no-warnings', fileURLToPath(STRIPPER)], {
        input: JSON.stringify(stale),
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['pipe', 'pipe', 'inherit'],
      }).toString('utf8'),
    );
    report.stripped = stale.length;
    const next = {};
    for (const [url, hash] of hashes) {
      const entry = url in fresh ? { hash, js: fresh[url] } : cache[url];
      if (entry?.hash === hash) next[url] = entry;
    }
    cache = next;
    try {
      mkdirSync(CACHE_DIR, { recursive: true });
      const temporary = new URL(`${CACHE.pathname.split('/').pop()}.${process.pid}`, CACHE_DIR);
      writeFileSync(temporary, JSON.stringify(cache));
      renameSync(temporary, CACHE);
      report.cacheWritten = true;
    } catch {
      // A read-only install: the stripping is redone at the next start.
    }
  }
  for (const [url, hash] of hashes) if (cache[url]?.hash === hash) sources.set(url, cache[url].js);
} catch (error) {
  report.error = String(error);
}

serveModules((url) => sources.get(url), report);
