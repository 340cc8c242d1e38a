import { subjectOf } from '../../accounts/subject.ts';
import type { Mode, Step } from '../attempt.ts';
import type { SignInParts } from '../parts.ts';
import { checkLegacyPassword } from '../steps/login-script.ts';
import { refuseBlockedSubject } from '../steps/refuse-blocked.ts';

/** CUSTOM_USER_STORE: the `login` script decides every time; Ferry keeps no account, only a short claims cache. */
export function customStoreMode(parts: SignInParts): Mode {
  return {
    steps: [checkLegacyPassword(parts, { adoptHashes: false }), refuseBlockedSubject(parts), signInLegacyUser(parts)],
    paths: ['legacy'],
    localAccounts: false,
  };
}

/** The verified user signs in under `sub` = prefix + legacy id; their profile answers the token's claims for a while. */
export function signInLegacyUser(parts: Pick<SignInParts, 'subjectPrefix' | 'claimsCache'>): Step {
  return async (attempt) => {
    const { profile, legacyId } = attempt.verified!;
    const sub = subjectOf(parts.subjectPrefix, legacyId);
    parts.claimsCache.set(sub, profile, attempt.connection!.claimsCacheSeconds);
    attempt.result = { ok: true, sub, path: 'legacy' };
  };
}
