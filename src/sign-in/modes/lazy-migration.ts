import { checkProfile } from '../../connection/profile.ts';
import type { Attempt, Mode, Step } from '../attempt.ts';
import type { SignInParts } from '../parts.ts';
import { MESSAGES, type SignInResult } from '../service.ts';
import { checkLegacyPassword, runLogin } from '../steps/login-script.ts';
import { migrate } from '../steps/migrate.ts';
import { localSignIn } from './local.ts';

/**
 * LAZY_MIGRATION: a local account (registered, or migrated earlier) wins and is checked locally,
 * so the legacy database is never asked about a migrated user and an outage does not lock them
 * out; an identifier without one goes to the `login` script, and a user it verifies is migrated.
 */
export function lazyMigrationMode(parts: SignInParts): Mode {
  return {
    steps: [checkLocalAccount(parts), checkLegacyPassword(parts, { adoptHashes: true }), migrate(parts)],
    paths: ['local', 'legacy'],
    localAccounts: true,
  };
}

/** The local account decides if there is one; otherwise the attempt goes on to the legacy script. */
export function checkLocalAccount(parts: SignInParts): Step {
  return async (attempt, next) => {
    const local = attempt.local;
    if (!local) return next();
    const result = await localSignIn(parts.accounts, attempt.identifier!, attempt.password, parts.log, local);
    attempt.result = result.ok || local.legacy_id !== null ? result : await checkForCapture(parts, attempt, result);
  };
}

/**
 * A never-migrated local account refused the password. If the legacy database accepts it, a
 * legacy user's identifier was registered by someone else first: fail closed, record the
 * conflict. If the legacy side cannot answer, the local refusal stands.
 */
async function checkForCapture(parts: SignInParts, attempt: Attempt, refused: SignInResult): Promise<SignInResult> {
  const outcome = await runLogin(parts, attempt);
  if (!outcome.ok) return refused;
  const check = checkProfile(outcome.value);
  if (check.ok) await parts.migration.refuse(check.legacyId, attempt.identifier!.kind);
  return { ok: false, reason: 'unavailable', message: MESSAGES.conflict };
}
