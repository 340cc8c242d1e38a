import { subjectOf } from '../../accounts/subject.ts';
import { identifierKey } from '../../store/queries/user-activity.ts';
import type { Step } from '../attempt.ts';
import type { SignInParts } from '../parts.ts';

/**
 * A user an operator blocked is refused before any password is looked at, with the same sentence
 * whatever was typed (config `blockedUserMessage`). A local account says so itself (the account
 * read already made); a custom-store user is found by the identifier typed among the identifiers
 * recorded when they were blocked. Inside padFailure, so the refusal takes as long as a wrong
 * password would; before the throttle, since no password is tried.
 */
export function refuseBlocked(parts: Pick<SignInParts, 'blocks' | 'blockedMessage'>): Step {
  return async (attempt, next) => {
    const identifier = attempt.identifier!;
    const blocked = attempt.mode!.localAccounts
      ? Boolean(attempt.local?.blocked_at)
      : await parts.blocks.blockedIdentifier([identifierKey(identifier.kind, identifier.value)]);
    if (blocked) {
      attempt.result = { ok: false, reason: 'blocked', message: parts.blockedMessage };
      return;
    }
    await next();
  };
}

/**
 * CUSTOM_USER_STORE, after the login script verified the user: refused if their subject is
 * blocked. It catches a blocked user whose identifiers changed in the legacy database since the
 * block (the check above knows only the old ones); they are refused after their password was
 * checked, the one case where the answer depends on it.
 */
export function refuseBlockedSubject(parts: Pick<SignInParts, 'blocks' | 'blockedMessage' | 'subjectPrefix'>): Step {
  return async (attempt, next) => {
    if (await parts.blocks.blockedSubject(subjectOf(parts.subjectPrefix, attempt.verified!.legacyId))) {
      attempt.result = { ok: false, reason: 'blocked', message: parts.blockedMessage, path: 'legacy' };
      return;
    }
    await next();
  };
}
