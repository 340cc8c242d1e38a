import { StringDecoder } from 'node:string_decoder';
import { UnreadableRecord } from './bulk-import.ts';

/** Longest NDJSON line read: a profile is at most 64 KiB, a hash at most 4 KiB. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * The records of an NDJSON (JSON Lines) stream, one per non-blank line, read a chunk at a time so
 * that a file of any length takes bounded memory. A line that is not JSON, or too long, becomes
 * an UnreadableRecord in its place instead of stopping the import.
 */
export async function* ndjsonRecords(input: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let skipping = false;
  const parse = (line: string): unknown => {
    try {
      return JSON.parse(line);
    } catch (error) {
      return new UnreadableRecord(`The line is not JSON: ${(error as Error).message}`);
    }
  };
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    let newline: number;
    while ((newline = pending.indexOf('\n', start)) >= 0) {
      const line = pending.slice(start, newline).trim();
      start = newline + 1;
      if (skipping) skipping = false;
      else if (line !== '') yield parse(line);
    }
    pending = pending.slice(start);
    if (pending.length > MAX_LINE_BYTES && !skipping) {
      yield new UnreadableRecord(`The line is longer than ${MAX_LINE_BYTES} bytes.`);
      skipping = true;
    }
    if (skipping) pending = '';
  }
  const last = (pending + decoder.end()).trim();
  if (last !== '' && !skipping) yield parse(last);
}

/** The records of a JSON document: an array of users, or `{ "users": [ … ] }`; undefined for anything else. */
export function jsonRecords(document: unknown): unknown[] | undefined {
  if (Array.isArray(document)) return document;
  const users = typeof document === 'object' && document !== null ? (document as { users?: unknown }).users : undefined;
  return Array.isArray(users) ? users : undefined;
}
