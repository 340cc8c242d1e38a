#!/usr/bin/env node
// The `ferry` command: runs src/cli/main.ts under Node's type stripping, with --no-node-snapshot
// (isolated-vm needs it), passing the arguments, the terminal and the exit code through.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exitIfNodeTooOld } from './check-node.js';

exitIfNodeTooOld();

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const main = join(src, 'cli', 'main.ts');
// Ferry's modules stripped of their types beforehand, so the server does not load Node's stripper.
const stripped = pathToFileURL(join(src, 'boot', 'stripped.mjs')).href;
// The same flags and memory settings as the package's start script (see README, "Run it", and
// docs/memory.md: argon2's buffers are kept by glibc for the next hash, not mapped afresh each time).
const env = { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '41943040', ...process.env };
const flags = ['--no-node-snapshot', '--max-semi-space-size=4', '--heap-growing-percent=25', '--import', stripped];
const child = spawn(process.execPath, [...flags, main, ...process.argv.slice(2)], { stdio: 'inherit', env });

// Ctrl-C and a closing terminal reach the whole process group, the child included: this process
// only waits for it. SIGTERM (a supervisor stopping this pid) is passed on.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
