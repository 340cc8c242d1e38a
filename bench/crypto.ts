/**
 * `node --no-node-snapshot bench/crypto.ts`: what a script's crypto at the default caps costs,
 * in the sandbox (in this process) against the same call in host code, one at a time, median of
 * BENCH_RUNS (default 5): pbkdf2Sync at maxPbkdf2Iterations (2,000,000 SHA-256 iterations, one
 * block), its SHA-512 equivalent (666,666) and scryptSync at maxScryptMemoryMb (N=65536, r=8).
 */
import crypto from 'node:crypto';
import { createLogger } from '../src/log.ts';
import { createSandbox } from '../src/sandbox/index.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 1 });
const CASES = [
  { name: 'pbkdf2Sync sha256, 2,000,000 iterations', call: "pbkdf2Sync('pw', 'salt', 2000000, 32, 'sha256')" },
  { name: 'pbkdf2Sync sha512, 666,666 iterations', call: "pbkdf2Sync('pw', 'salt', 666666, 64, 'sha512')" },
  { name: 'scryptSync N=65536 r=8 p=1 (64 MiB)', call: "scryptSync('pw', 'salt', 64, { N: 65536, r: 8, p: 1, maxmem: 128 * 1024 * 1024 })" },
];
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const rows: string[] = [];
for (const { name, call } of CASES) {
  const host: number[] = [];
  const inSandbox: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    let started = performance.now();
    new Function('crypto', `return crypto.${call}`)(crypto);
    host.push(performance.now() - started);
    started = performance.now();
    const outcome = await sandbox.run({
      name: 'main',
      args: [],
      source: `async function main() { require('crypto').${call}; }`,
      limits: { timeoutMs: 30_000 },
    });
    if (!outcome.ok) throw new Error(`${outcome.kind}: ${outcome.message}`);
    inSandbox.push(performance.now() - started);
  }
  rows.push(`| ${name} | ${median(host).toFixed(1)} | ${median(inSandbox).toFixed(1)} |`);
}
await sandbox.close();
console.log(['| call (at the default cap) | host ms | sandbox ms |', '|---|---:|---:|', ...rows].join('\n'));
