import { randomUUID } from 'node:crypto';
import { recogniseHash } from '../accounts/hashes/index.ts';
import { subjectOf } from '../accounts/subject.ts';
import type { Logger } from '../log.ts';
import { isUniqueViolation, type AccountQueries, type NewAccount } from '../store/queries/accounts.ts';
import { checkProfile, profileIdentifiers } from './profile.ts';
import { parseTotpSecret } from '../accounts/second-factor.ts';

export interface ImportFailure {
  /** The record's position in the input, from 0 (for NDJSON: its line, not counting blank lines). */
  index: number;
  id?: string | undefined;
  error: string;
}

export interface ImportSummary {
  created: number;
  /** Legacy ids already in Ferry (imported, swept or migrated by sign-in), left as they were. */
  skipped: number;
  /** Legacy ids already in Ferry whose profile and hash were replaced (`existing: 'update'`). */
  updated: number;
  /** The first MAX_REPORTED_FAILURES failures; failedCount counts them all. */
  failed: ImportFailure[];
  failedCount: number;
}

export interface ImportOptions {
  /** What to do with a legacy id Ferry already has: leave it (default) or update it from the record. */
  existing?: 'skip' | 'update';
  /** A sweep's page rather than an import: the accounts are marked as swept. */
  swept?: boolean;
}

/** A line of the input that is not JSON: reported as that record's failure. */
export class UnreadableRecord {
  readonly error: string;
  constructor(error: string) {
    this.error = error;
  }
}

class RecordProblem extends Error {}

const BATCH = 500;
export const MAX_REPORTED_FAILURES = 10_000;
const IDENTIFIERS = ['email', 'phone', 'username'] as const;

/**
 * Creates Ferry accounts for legacy users in bulk, as a lazy migration would have on their first
 * sign-in: `sub` from the legacy id, the profile checked like a script's, and the legacy password
 * hash kept (verified natively and replaced by argon2id at the first sign-in) or none (the user
 * sets one through password reset). Records go in batches of one INSERT each, so memory stays
 * bounded whatever the input's length. One bad record is reported and never stops the rest; a
 * rerun skips what is already there.
 */
export function createBulkImport(deps: { queries: AccountQueries; subjectPrefix: string; log: Logger }) {
  const { queries } = deps;

  const prepare = (record: unknown): NewAccount & { legacyId: string } => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new RecordProblem('A record must be a JSON object.');
    const { passwordHash, totpSecret, ...fields } = record as Record<string, unknown>;
    // A second factor the legacy system had: kept out of the profile (it is a secret), stored as a confirmed factor.
    let totp: string | undefined;
    if (totpSecret !== undefined && totpSecret !== null) {
      const parsed = parseTotpSecret(totpSecret);
      if (!parsed.ok) throw new RecordProblem(parsed.problem);
      totp = parsed.secret;
    }
    if ('password' in fields) throw new RecordProblem('Plain passwords are not imported: send passwordHash, or nothing and let the user reset it.');
    const check = checkProfile(fields);
    if (!check.ok) throw new RecordProblem(check.problem);
    const ids = profileIdentifiers(check.profile);
    if (!IDENTIFIERS.some((field) => ids[field])) {
      // As in a lazy migration, an identifier Ferry cannot read (a WordPress login with a space) stays
      // in the profile and is not one to sign in with; a record left with none cannot be imported.
      const unreadable = IDENTIFIERS.filter((field) => ![undefined, null, ''].includes(check.profile[field] as string));
      const what = { email: 'a valid email address', phone: 'a phone number of 6 to 15 digits', username: 'a valid username' };
      throw new RecordProblem(
        unreadable.length > 0
          ? `${unreadable.map((field) => `"${field}" is not ${what[field]}`).join(', ')}, and the record has no other email, phone or username to sign in with.`
          : 'A record needs an email, phone or username to sign in with.',
      );
    }
    let stored: string | undefined;
    if (passwordHash !== undefined && passwordHash !== null) {
      const hash = recogniseHash(passwordHash);
      if (!hash.ok) throw new RecordProblem(hash.problem);
      stored = hash.stored;
    }
    return {
      id: randomUUID(),
      sub: subjectOf(deps.subjectPrefix, check.legacyId),
      ...ids,
      passwordHash: stored ?? null,
      profile: check.profile,
      legacyId: check.legacyId,
      totpSecret: totp,
    };
  };

  /** Why an account that is not this legacy id's refused the record. */
  const conflictOf = async (account: NewAccount): Promise<string> => {
    for (const field of IDENTIFIERS) {
      const value = account[field];
      if (value && (await queries.findBy(field, value))) return `The ${field} ${value} already belongs to another account.`;
    }
    return `The subject ${account.sub} already belongs to another account.`;
  };

  const update = async (account: NewAccount & { legacyId: string }): Promise<string | undefined> => {
    const existing = await queries.findBy('legacy_id', account.legacyId);
    if (!existing) return 'The account disappeared while it was being updated.';
    try {
      await queries.update(existing.id, {
        email: account.email ?? null,
        phone: account.phone ?? null,
        username: account.username ?? null,
        profile: account.profile,
        ...(account.passwordHash ? { passwordHash: account.passwordHash } : {}),
      });
      return undefined;
    } catch (error) {
      if (isUniqueViolation(error)) return conflictOf(account);
      throw error;
    }
  };

  return {
    async run(
      records: AsyncIterable<unknown> | Iterable<unknown>,
      options: ImportOptions = {},
      onProgress?: (summary: ImportSummary, processed: number) => void,
    ): Promise<ImportSummary> {
      const summary: ImportSummary = { created: 0, skipped: 0, updated: 0, failed: [], failedCount: 0 };
      const fail = (index: number, id: string | undefined, error: string) => {
        summary.failedCount += 1;
        if (summary.failed.length < MAX_REPORTED_FAILURES) summary.failed.push({ index, ...(id === undefined ? {} : { id }), error });
      };
      let batch: { index: number; account: NewAccount & { legacyId: string } }[] = [];
      let inBatch = new Set<string>();
      let processed = 0;

      const flush = async () => {
        const inserted = await queries.insertImported(
          batch.map((item) => item.account),
          options.swept === true,
        );
        const rest = batch.filter((item) => !inserted.has(item.account.legacyId));
        const existing = await queries.existingLegacyIds(rest.map((item) => item.account.legacyId));
        summary.created += inserted.size;
        for (const { index, account } of rest) {
          if (!existing.has(account.legacyId)) fail(index, account.legacyId, await conflictOf(account));
          else if (options.existing !== 'update') summary.skipped += 1;
          else {
            const problem = await update(account);
            if (problem) fail(index, account.legacyId, problem);
            else summary.updated += 1;
          }
        }
        batch = [];
        inBatch = new Set();
        onProgress?.(summary, processed);
      };

      for await (const record of records) {
        const index = processed;
        processed += 1;
        if (record instanceof UnreadableRecord) {
          fail(index, undefined, record.error);
          continue;
        }
        try {
          const account = prepare(record);
          // One legacy id per INSERT, so that a repeated record is told apart from its first copy.
          if (inBatch.has(account.legacyId)) await flush();
          batch.push({ index, account });
          inBatch.add(account.legacyId);
        } catch (error) {
          if (!(error instanceof RecordProblem)) throw error;
          const id = (record as { id?: unknown } | null)?.id;
          fail(index, typeof id === 'string' || typeof id === 'number' ? String(id) : undefined, error.message);
        }
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      deps.log.info({ created: summary.created, skipped: summary.skipped, updated: summary.updated, failed: summary.failedCount }, 'users imported');
      return summary;
    },
  };
}

export type BulkImport = ReturnType<typeof createBulkImport>;
