import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ImportSummary } from '../../connection/bulk-import.ts';
import { jsonRecords, ndjsonRecords } from '../../connection/import-records.ts';
import { loadConfig } from '../../config/load.ts';
import { BadRequest, FerryError } from '../../errors.ts';
import { openLocal } from '../local.ts';
import type { Output } from '../output.ts';
import type { Target } from '../remote.ts';

const BAR = 30;
const SHOWN_FAILURES = 20;

/** Redraws one progress line on stderr at most every 250 ms (a line every 5 s when it is not a terminal). */
function progressBar(total: number, stderr: NodeJS.WriteStream = process.stderr) {
  const started = performance.now();
  let last = 0;
  const draw = (bytes: number, records: number, final = false) => {
    const now = performance.now();
    if (!final && now - last < (stderr.isTTY ? 250 : 5000)) return;
    last = now;
    const share = total > 0 ? Math.min(1, bytes / total) : 1;
    const filled = Math.round(share * BAR);
    const rate = Math.round(records / Math.max(0.001, (now - started) / 1000));
    const text = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${Math.round(share * 100)} %  ${records.toLocaleString('en')} records  ${rate.toLocaleString('en')}/s`;
    stderr.write(stderr.isTTY ? `\r${text}${final ? '\n' : ''}` : `${text}\n`);
  };
  return draw;
}

/** The file's chunks, counting the bytes read so far into `counter.bytes`. */
async function* counted(path: string, counter: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    counter.bytes += chunk.length;
    yield chunk;
  }
}

/**
 * `ferry users import FILE`: users with legacy ids and password hashes, from NDJSON (one user per
 * line, streamed) or a .json file ({ "users": [ … ] }), into the configured database or through a
 * running server's admin API. Exit code 1 when any record failed.
 */
export async function importUsers(
  options: { file: string; update?: boolean | undefined; json?: boolean | undefined; cwd: string },
  target: Target | undefined,
  out: Output,
): Promise<number> {
  const path = resolve(options.cwd, options.file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new BadRequest(`Cannot read ${path}.`, 'usage');
  }
  const isJson = /\.json$/i.test(path);
  const existing = options.update ? 'update' : 'skip';
  const counter = { bytes: 0 };
  const draw = progressBar(size);
  let summary: ImportSummary;
  if (target) {
    const ticker = setInterval(() => draw(counter.bytes, 0), 250);
    try {
      summary = await uploadFile(target, counted(path, counter), isJson, existing);
    } finally {
      clearInterval(ticker);
    }
  } else {
    const local = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, options.cwd).config));
    try {
      let records: AsyncIterable<unknown> | Iterable<unknown>;
      if (isJson) {
        const found = jsonRecords(JSON.parse(await readFile(path, 'utf8')));
        if (!found) throw new BadRequest(`${path} must hold { "users": [ … ] } or an array of users.`, 'usage');
        records = found;
        counter.bytes = size;
      } else records = ndjsonRecords(counted(path, counter));
      let processed = 0;
      summary = await local.library.imports.run(records, { existing }, (_, count) => draw(counter.bytes, (processed = count)));
      draw(counter.bytes, processed, true);
    } finally {
      await local.close();
    }
  }
  if (options.json) out.line(JSON.stringify(summary, null, 2));
  else {
    out.line(`Created: ${summary.created}  Skipped (already in Ferry): ${summary.skipped}  Updated: ${summary.updated}  Failed: ${summary.failedCount}`);
    for (const failure of summary.failed.slice(0, SHOWN_FAILURES))
      out.line(`  record ${failure.index}${failure.id === undefined ? '' : ` (id ${failure.id})`}: ${failure.error}`);
    if (summary.failedCount > SHOWN_FAILURES) out.line(`  … and ${summary.failedCount - SHOWN_FAILURES} more (--json lists them)`);
  }
  return summary.failedCount > 0 ? 1 : 0;
}

/** Streams the file to POST /api/v1/users/import (no timeout: a large import takes minutes). */
async function uploadFile(target: Target, body: AsyncIterable<Buffer>, isJson: boolean, existing: string): Promise<ImportSummary> {
  const response = await fetch(`${target.url}/api/v1/users/import?existing=${existing}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': isJson ? 'application/json' : 'application/x-ndjson' },
    body: ReadableStream.from(body),
    duplex: 'half',
  } as RequestInit).catch((error: unknown) => {
    throw new FerryError(`Could not reach Ferry at ${target.url}: ${(error as Error).message}`, { status: 503, code: 'unreachable', expose: true });
  });
  const answer = (await response.json().catch(() => undefined)) as (ImportSummary & { message?: string; error?: string }) | undefined;
  if (!response.ok || !answer) {
    throw new FerryError(`Ferry at ${target.url} answered ${response.status}: ${answer?.message ?? 'no JSON'}`, {
      status: response.status,
      code: answer?.error ?? 'http_error',
      expose: true,
    });
  }
  return answer;
}
