import type { SignInParts } from '../parts.ts';
import type { Step } from '../attempt.ts';

/**
 * A wrong password or an unknown user answers no sooner than a real password check along the
 * slowest path the sign-in could have taken under this mode (connection/timing.ts): in lazy
 * migration an identifier without a local account went to the legacy script, and a wrong password
 * of a migrated user must not answer sooner than that. Outside the throttle step, so the failure
 * is recorded before the wait, as it always was. A blocked user's refusal waits as long too, so
 * that, where the operator gave it the wrong-credentials sentence, its timing does not tell it apart.
 */
export function padFailure(parts: Pick<SignInParts, 'floor'>): Step {
  return async (attempt, next) => {
    await next();
    const result = attempt.result;
    if (result && !result.ok && (result.reason === 'invalid_credentials' || result.reason === 'blocked'))
      await parts.floor.pad(attempt.startedAt, attempt.mode!.paths);
  };
}

/** Teaches the floor how long a successful check takes along its path (a typing attacker cannot make those faster). */
export function timeSuccess(parts: Pick<SignInParts, 'floor'>): Step {
  return async (attempt, next) => {
    await next();
    if (attempt.result?.ok) parts.floor.observe(attempt.result.path ?? 'local', performance.now() - attempt.startedAt);
  };
}
