import type { Mode, Step } from '../attempt.ts';
import { modeOf, type SignInMode, type SignInParts } from '../parts.ts';

/** The connection as it is now (an admin may switch it between two sign-ins), and the mode it puts the sign-in in. */
export function loadConnection(parts: Pick<SignInParts, 'settings'>, modes: Readonly<Record<SignInMode, Mode>>): Step {
  return async (attempt, next) => {
    attempt.connection = await parts.settings.current();
    attempt.mode = modes[modeOf(attempt.connection)];
    await next();
  };
}

/**
 * The local account that decides the sign-in, where local accounts do: looked up before the
 * throttle, since an account Ferry knows has one throttle count for all its identifiers.
 */
export function findLocalAccount(parts: Pick<SignInParts, 'accounts'>): Step {
  return async (attempt, next) => {
    if (attempt.mode!.localAccounts) attempt.local = await parts.accounts.findByIdentifier(attempt.identifier!);
    await next();
  };
}
