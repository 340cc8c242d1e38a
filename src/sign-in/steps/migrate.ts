import type { Step } from '../attempt.ts';
import type { SignInParts } from '../parts.ts';
import { MESSAGES } from '../service.ts';

/**
 * Copies the user the legacy script just verified into Ferry's accounts (connection/lazy-migration.ts),
 * so every later sign-in is checked locally. An identifier another account already holds fails closed.
 */
export function migrate(parts: Pick<SignInParts, 'migration' | 'metrics'>): Step {
  return async (attempt) => {
    const { profile, legacyId, adoptedHash } = attempt.verified!;
    const migrated = await parts.migration.migrate(profile, legacyId, attempt.identifier!, attempt.password, adoptedHash);
    parts.metrics?.migrations.inc({ result: migrated.ok ? (migrated.created ? 'created' : 'existing') : 'conflict' });
    attempt.result = migrated.ok
      ? { ok: true, sub: migrated.account.sub, path: 'legacy' }
      : { ok: false, reason: 'conflict', message: MESSAGES.conflict, path: 'legacy' };
  };
}
