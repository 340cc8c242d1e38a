/**
 * `npm run bench:hashes`: what each legacy hash format costs to verify (the hashes made by
 * passlib, Django and argon2-cffi with their defaults unless noted in test/helpers/peer-hashes.ts),
 * beside Ferry's own argon2id; then a bulk import of BENCH_IMPORT_RECORDS users (1,000,000 by
 * default) streamed as NDJSON into PostgreSQL with their bcrypt hashes kept, its rate and the
 * process's peak memory.
 */
import { Readable } from 'node:stream';
import { verifyLegacyHash, recogniseHash } from '../src/accounts/hashes/index.ts';
import { createPasswordHasher } from '../src/accounts/passwords.ts';
import { createBulkImport } from '../src/connection/bulk-import.ts';
import { ndjsonRecords } from '../src/connection/import-records.ts';
import { createLogger } from '../src/log.ts';
import { openDatabase } from '../src/store/index.ts';
import { createAccountQueries } from '../src/store/queries/accounts.ts';
import { peerHashes } from '../test/helpers/peer-hashes.ts';
import { createPostgresDatabase, postgresReachable } from '../test/helpers/services.ts';

const PASSWORD = 'bench-password-1';
const RUNS = 5;
const RECORDS = Number(process.env.BENCH_IMPORT_RECORDS ?? 1_000_000);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timeVerify(check: () => Promise<boolean>): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    if (!(await check())) throw new Error('the password did not verify');
    times.push(performance.now() - started);
  }
  return median(times);
}

console.log(`# Legacy hash verification, median of ${RUNS} (one at a time)\n`);
console.log('| format | stored as | ms |');
console.log('|---|---|---:|');
const hasher = createPasswordHasher();
const own = await hasher.hash(PASSWORD);
console.log(`| Ferry's argon2id (reference) | m=19456,t=2,p=1 | ${(await timeVerify(() => hasher.verify(own, PASSWORD))).toFixed(1)} |`);
for (const [name, hash] of Object.entries(peerHashes(PASSWORD))) {
  const recognised = recogniseHash(hash);
  if (!recognised.ok) throw new Error(`${name}: ${recognised.problem}`);
  const shown = typeof hash === 'string' ? `\`${hash.slice(0, 22)}…\`` : `{ algorithm: ${String(hash.algorithm)} }`;
  console.log(`| ${name} | ${shown} | ${(await timeVerify(() => verifyLegacyHash(recognised.stored, PASSWORD))).toFixed(1)} |`);
}

await postgresReachable();
const database = await createPostgresDatabase('ferry_bench_import');
const db = await openDatabase({ databaseUrl: database.url, dataDir: '' });
try {
  const bulk = createBulkImport({ queries: createAccountQueries(db), subjectPrefix: '', log: createLogger({ level: 'silent' }) });
  const bcrypt = peerHashes(PASSWORD)['bcrypt $2y$'];
  // Generated as it is read: the input itself takes no memory, so the peak is the import's.
  function* lines() {
    for (let i = 0; i < RECORDS; i += 1) {
      yield `${JSON.stringify({ id: `u${i}`, email: `user${i}@bench.example`, emailVerified: i % 2 === 0, name: `Bench User ${i}`, passwordHash: bcrypt })}\n`;
    }
  }
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  const started = performance.now();
  const summary = await bulk.run(ndjsonRecords(Readable.from(lines())), {}, (_, processed) => {
    if (processed % 100_000 < 500) process.stderr.write(`  ${processed} records, ${Math.round(process.memoryUsage.rss() / 2 ** 20)} MB RSS\n`);
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  console.log(`\n# Bulk import into PostgreSQL (NDJSON stream, bcrypt hashes kept)\n`);
  console.log('| records | created | failed | seconds | users/s | RSS before | peak RSS during |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  console.log(
    `| ${RECORDS} | ${summary.created} | ${summary.failedCount} | ${seconds.toFixed(1)} | ${Math.round(RECORDS / seconds)} | ${Math.round(rssBefore / 2 ** 20)} MB | ${Math.round(peakRss / 2 ** 20)} MB |`,
  );

  const rerunCount = Math.min(RECORDS, 100_000);
  const rerunStarted = performance.now();
  const rerun = await bulk.run(
    ndjsonRecords(
      Readable.from(
        (function* () {
          for (let i = 0; i < rerunCount; i += 1) yield `${JSON.stringify({ id: `u${i}`, email: `user${i}@bench.example`, passwordHash: bcrypt })}\n`;
        })(),
      ),
    ),
  );
  const rerunSeconds = (performance.now() - rerunStarted) / 1000;
  console.log(`\nRerun of the first ${rerunCount}: ${rerun.skipped} skipped in ${rerunSeconds.toFixed(1)} s (${Math.round(rerunCount / rerunSeconds)}/s).`);
} finally {
  await db.close();
  await database.drop();
}
