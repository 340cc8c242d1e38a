import { toScriptQuery } from '../../accounts/identifier.ts';
import { adoptableBcryptHash } from '../../accounts/passwords.ts';
import type { Connection } from '../../connection/connection.ts';
import { failureOf } from '../../connection/failures.ts';
import { checkProfile } from '../../connection/profile.ts';
import { scriptContext } from '../../connection/scripts.ts';
import type { Outcome } from '../../sandbox/index.ts';
import type { Profile } from '../../store/queries/accounts.ts';
import type { Attempt, Step } from '../attempt.ts';
import type { SignInParts } from '../parts.ts';
import { MESSAGES, type SignInResult } from '../service.ts';

/** The check the sandbox applies to what `login`, `createUser` and `getUser` return. */
export const profileProblem = (value: unknown): string | undefined => {
  const check = checkProfile(value);
  return check.ok ? undefined : check.problem;
};

/** Runs the connection's `login` script with the typed identifier and password. */
export function runLogin(parts: Pick<SignInParts, 'runner' | 'issuer'>, attempt: Attempt, options: { watchPassword?: boolean } = {}) {
  return parts.runner.run<Profile>(
    attempt.connection!,
    'login',
    [toScriptQuery(attempt.identifier!), attempt.password, scriptContext(parts.issuer, attempt.request)],
    {
      validate: profileProblem,
      secrets: [attempt.password],
      ...(options.watchPassword ? { watchPassword: attempt.password } : {}),
    },
  );
}

/**
 * The legacy `login` script decides: a user it verifies goes on to the mode's next step; a failure
 * ends the attempt with what connection/failures.ts says the person sees (the script's own words
 * go to the execution log, and to the page only with showScriptErrors). `adoptHashes` (lazy
 * migration) asks the sandbox for the bcrypt hash the password was verified against, for
 * connection.adoptLegacyHashes.
 */
export function checkLegacyPassword(parts: Pick<SignInParts, 'runner' | 'issuer' | 'log'>, options: { adoptHashes: boolean }): Step {
  return async (attempt, next) => {
    const connection = attempt.connection!;
    const outcome = await runLogin(parts, attempt, { watchPassword: options.adoptHashes && connection.adoptLegacyHashes });
    if (!outcome.ok) {
      attempt.result = refusal(parts, connection, outcome);
      return;
    }
    const check = checkProfile(outcome.value);
    if (!check.ok) {
      attempt.result = { ok: false, reason: 'unavailable', message: MESSAGES.unavailable };
      return;
    }
    const hash = options.adoptHashes ? outcome.verifiedBcryptHash : undefined;
    const adoptedHash = hash && adoptableBcryptHash(hash, attempt.password) ? hash : undefined;
    attempt.verified = { profile: check.profile, legacyId: check.legacyId, adoptedHash };
    await next();
  };
}

function refusal(parts: Pick<SignInParts, 'log'>, connection: Connection, outcome: Extract<Outcome, { ok: false }>): SignInResult {
  const { rule } = failureOf(outcome, 'login');
  if (rule.alert) parts.log.error({ kind: outcome.kind, message: outcome.message }, 'login script failed');
  switch (rule.signIn) {
    case 'refused':
      return { ok: false, reason: 'invalid_credentials', message: connection.showScriptErrors ? outcome.message : MESSAGES.invalidCredentials, path: 'legacy' };
    case 'not_implemented':
      return { ok: false, reason: 'unavailable', message: outcome.message, path: 'legacy' };
    case 'unavailable':
      return { ok: false, reason: 'unavailable', message: MESSAGES.unavailable, path: 'legacy' };
  }
}
