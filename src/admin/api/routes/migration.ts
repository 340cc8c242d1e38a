import { z } from 'zod';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';
import { retirement, sweepStatus } from './sweep.ts';

const status = z.object({
  migrated: z.number().int().describe('Accounts copied from the legacy database.'),
  local: z.number().int().describe('Accounts registered in Ferry itself.'),
  legacyTotal: z.number().int().nullable().describe('listUsers(1, 1).totalCount; null when the connection is off or listUsers is not written.'),
  legacyError: z.string().nullable(),
  progress: z.number().nullable().describe('migrated / legacyTotal in percent; null when legacyTotal is unknown.'),
  perDay: z.array(z.object({ day: z.string(), count: z.number().int() })).describe('Migrations per UTC day, the last 30 days.'),
  failures: z.record(z.string(), z.number().int()).describe('Refused migrations by kind.'),
  bySignIn: z.number().int().describe('Of migrated: accounts made by a sign-in or password reset (lazy migration).'),
  imported: z.number().int().describe('Of migrated: accounts made by a bulk import.'),
  swept: z.number().int().describe('Of migrated: accounts made by a sweep.'),
  remaining: z.number().int().nullable().describe('Users still only in the legacy database: legacyTotal minus migrated; null when legacyTotal is.'),
  sweep: sweepStatus,
  retired: retirement.nullable().describe('The retirement of the legacy database, while the connection stays off.'),
});

/** How far the lazy migration has come; signing key rotation. */
export function migrationRoutes(library: AdminLibrary) {
  return [
    defineRoute({
      method: 'get',
      path: '/migration',
      tag: 'migration',
      summary: 'Lazy migration progress',
      response: status,
      handle: () => library.migration.status(),
    }),
    defineRoute({
      method: 'post',
      path: '/keys/rotate',
      tag: 'keys',
      summary: 'Make new signing keys the active ones (old ones stay published until their tokens expire)',
      response: z.object({ kids: z.array(z.string()), retired: z.number().int(), deleted: z.number().int() }),
      handle: () => library.keys.rotate(),
    }),
  ];
}
