import { BadRequest, FerryError } from '../../errors.ts';
import type { BulkImport, ImportOptions, ImportSummary } from '../../connection/bulk-import.ts';
import { jsonRecords, ndjsonRecords } from '../../connection/import-records.ts';

/** A JSON document is parsed whole; larger imports are sent as NDJSON, which streams. */
export const MAX_JSON_IMPORT_BYTES = 64 * 1024 * 1024;

const NDJSON = /^application\/(x-)?(ndjson|jsonl|jsonlines|json-lines)$/;

/** Bulk import of users with their legacy ids and password hashes, from an upload or a file. */
export function createImportLibrary(bulkImport: BulkImport) {
  return {
    /** `contentType` says how `body` is written: application/json or application/x-ndjson. */
    async fromUpload(contentType: string, body: AsyncIterable<Buffer>, options: ImportOptions): Promise<ImportSummary> {
      const type = contentType.split(';')[0]!.trim().toLowerCase();
      if (NDJSON.test(type)) return bulkImport.run(ndjsonRecords(body), options);
      if (type !== 'application/json') {
        throw new BadRequest('Send the users as application/json ({ "users": [ … ] }) or application/x-ndjson (one user per line).', 'unsupported_media_type');
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += chunk.length;
        if (size > MAX_JSON_IMPORT_BYTES)
          throw new FerryError(`A JSON import is at most ${MAX_JSON_IMPORT_BYTES >> 20} MiB; send larger ones as NDJSON.`, {
            status: 413,
            code: 'body_too_large',
          });
        chunks.push(chunk);
      }
      let document: unknown;
      try {
        document = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        throw new BadRequest(`The body is not valid JSON: ${(error as Error).message}`, 'invalid_json');
      }
      const records = jsonRecords(document);
      if (!records) throw new BadRequest('Send { "users": [ … ] } or an array of users.', 'invalid_request');
      return bulkImport.run(records, options);
    },

    /** Records already read (the CLI's file, a sweep's page). */
    run: (records: AsyncIterable<unknown> | Iterable<unknown>, options: ImportOptions, onProgress?: Parameters<BulkImport['run']>[2]) =>
      bulkImport.run(records, options, onProgress),
  };
}

export type ImportLibrary = ReturnType<typeof createImportLibrary>;
