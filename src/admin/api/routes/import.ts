import { z } from 'zod';
import { declaredHash } from '../../../accounts/hashes/declared.ts';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';

const importRecord = z
  .looseObject({
    id: z.union([z.string(), z.number()]).describe("The legacy id: the account's sub becomes subjectPrefix + id, as a lazy migration would make it."),
    email: z.string().optional(),
    emailVerified: z.boolean().optional(),
    phone: z.string().optional(),
    phoneVerified: z.boolean().optional(),
    username: z.string().optional(),
    name: z.string().optional(),
    passwordHash: z
      .union([z.string().describe('A self-describing hash: $2b$…, $argon2id$…, pbkdf2_sha256$…, $P$…, {SSHA}…; see docs/password-hashes.md.'), declaredHash])
      .optional()
      .describe('Without it the account exists and its user sets a password through password reset.'),
  })
  .describe("A profile in the contract's shape (other fields are kept as custom fields) plus passwordHash.");

const importSummary = z.object({
  created: z.number().int(),
  skipped: z.number().int().describe('Legacy ids already in Ferry (imported or migrated), left as they were.'),
  updated: z.number().int().describe('Legacy ids already in Ferry updated from the record (existing=update).'),
  failed: z.array(z.object({ index: z.number().int(), id: z.string().optional(), error: z.string() })).describe('At most the first 10,000 failures.'),
  failedCount: z.number().int(),
});

/** Bulk import of users with legacy ids and password hashes. */
export function importRoutes(library: AdminLibrary) {
  return [
    defineRoute({
      method: 'post',
      path: '/users/import',
      tag: 'users',
      summary: 'Import users with their legacy ids and password hashes (JSON or NDJSON)',
      description:
        'Each record becomes a Ferry account as a lazy migration would make it. A record that cannot be imported (unknown hash format, invalid identifier, an identifier another account holds) is reported in failed and never stops the others; a legacy id already in Ferry is skipped, or updated with existing=update, so a rerun is safe.',
      query: z.object({ existing: z.enum(['skip', 'update']).default('skip').describe('What to do with a legacy id Ferry already has.') }),
      stream: {
        contentTypes: ['application/json', 'application/x-ndjson'],
        schema: z.union([z.object({ users: z.array(importRecord) }), importRecord.describe('application/x-ndjson: one record per line.')]),
        description: '{ "users": [ … ] } as application/json (up to 64 MiB), or one user per line as application/x-ndjson (any length, read as it arrives).',
      },
      response: importSummary,
      errors: [413],
      handle: ({ query, ctx }) => library.imports.fromUpload(ctx.get('content-type'), ctx.req, query),
    }),
  ];
}
