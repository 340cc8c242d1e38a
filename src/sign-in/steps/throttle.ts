import type { SignInParts } from '../parts.ts';
import type { Step } from '../attempt.ts';

/**
 * Throttled before the password is looked at, whether or not the account exists; a local account
 * has one count for all its identifiers (and the password page). A wrong password keeps the
 * reserved failure, a right one ends the run of failures, and no verdict (the legacy side was
 * unavailable, a conflict, an exception) hands it back. A success's write also counts the
 * sign-in (last sign-in and count, shown to operators): no round trip of its own.
 */
export function throttle(parts: Pick<SignInParts, 'throttle'>): Step {
  return async (attempt, next) => {
    const { throttle } = parts;
    const reservation = await throttle.reserve(throttle.keys(attempt.local ? { sub: attempt.local.sub } : attempt.identifier!, attempt.request.ip));
    if (!reservation.allowed) {
      const seconds = reservation.retryAfterSeconds;
      attempt.result = { ok: false, reason: 'throttled', message: throttledMessage(seconds), retryAfterSeconds: seconds };
      return;
    }
    try {
      await next();
    } catch (error) {
      await throttle.release(reservation);
      throw error;
    }
    const result = attempt.result;
    if (result?.ok) await throttle.succeeded(reservation, result.sub);
    else if (result?.reason === 'invalid_credentials') await throttle.failed(reservation);
    else await throttle.release(reservation);
  };
}

export function throttledMessage(seconds: number): string {
  const wait = seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
  return `Too many unsuccessful attempts. Please wait ${wait} and try again.`;
}
