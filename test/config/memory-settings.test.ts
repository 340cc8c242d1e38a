import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ARGON2_DEFAULTS } from '../../src/accounts/passwords.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

/** The glibc variables each way of starting Ferry sets (see docs/memory.md). */
function settings(): Record<string, Record<string, string>> {
  const start: string = JSON.parse(read('package.json')).scripts.start;
  const fromScript = Object.fromEntries([...start.matchAll(/\b(MALLOC_\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  const launcher = /const env = \{([^}]*)\.\.\.process\.env \}/.exec(read('bin/ferry.js'))?.[1] ?? '';
  const fromLauncher = Object.fromEntries([...launcher.matchAll(/(MALLOC_\w+): '([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
  const fromDockerfile = Object.fromEntries([...read('Dockerfile').matchAll(/^\s*(?:ENV\s+)?(MALLOC_\w+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1]!, m[2]!]));
  return { 'package.json start': fromScript, 'bin/ferry.js': fromLauncher, Dockerfile: fromDockerfile };
}

test('npm start, the ferry command and the Docker image set the same glibc memory settings', () => {
  const all = settings();
  const expected = all['package.json start']!;
  assert.ok(
    Object.keys(expected).length >= 3,
    `the start script sets MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_: ${JSON.stringify(expected)}`,
  );
  for (const [where, found] of Object.entries(all)) assert.deepEqual(found, expected, where);
});

test("argon2's buffer is below the mmap threshold, so glibc reuses it instead of mapping (and faulting in) fresh pages for every hash", () => {
  const { MALLOC_MMAP_THRESHOLD_: mmap, MALLOC_TRIM_THRESHOLD_: trim } = settings()['package.json start']!;
  const buffer = ARGON2_DEFAULTS.memoryCost * 1024;
  assert.ok(Number(mmap) > buffer, `MALLOC_MMAP_THRESHOLD_ ${mmap} must exceed argon2's ${buffer} bytes`);
  // glibc ignores a threshold above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit) and keeps its default.
  assert.ok(Number(mmap) <= 32 * 1024 * 1024, `MALLOC_MMAP_THRESHOLD_ ${mmap} is above glibc's 32 MiB maximum`);
  // Two hashes at once (one per core here) freed together must not be handed back at once either.
  assert.ok(Number(trim) >= 2 * buffer, `MALLOC_TRIM_THRESHOLD_ ${trim} must keep two of argon2's buffers`);
});

test('npm start, the ferry command and the Docker image start node with the same flags', () => {
  const start: string = JSON.parse(read('package.json')).scripts.start;
  const words = start.split(/\s+/);
  const fromScript = words.slice(words.indexOf('node') + 1, words.indexOf('src/cli/main.ts'));
  const launcher = /const flags = \[([^\]]*)\]/.exec(read('bin/ferry.js'))?.[1] ?? '';
  // The launcher names the hook by its absolute URL (`stripped`).
  const fromLauncher = launcher
    .split(',')
    .map((word) => word.trim())
    .filter((word) => word.startsWith("'"))
    .map((word) => word.slice(1, -1));
  const dockerCmd = /^CMD \[(.*)\]$/m.exec(read('Dockerfile'))?.[1] ?? '';
  const fromDockerfile = JSON.parse(`[${dockerCmd}]`) as string[];
  assert.deepEqual(fromDockerfile.slice(1, fromDockerfile.indexOf('src/cli/main.ts')), fromScript, 'Dockerfile CMD');
  assert.deepEqual(
    fromLauncher,
    fromScript.filter((word) => word !== './src/boot/stripped.mjs'),
    'bin/ferry.js',
  );
  assert.ok(fromScript.includes('--heap-growing-percent=25'), `the start script's flags: ${fromScript.join(' ')}`);
});
