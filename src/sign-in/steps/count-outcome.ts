import type { SignInParts } from '../parts.ts';
import type { Step } from '../attempt.ts';

/** First in the list, so that every attempt is counted once, by outcome and by who checked the password. */
export function countOutcome(parts: Pick<SignInParts, 'metrics'>): Step {
  return async (attempt, next) => {
    await next();
    const result = attempt.result;
    if (result) parts.metrics?.logins.inc({ outcome: result.ok ? 'success' : result.reason, path: result.path ?? 'none' });
  };
}
