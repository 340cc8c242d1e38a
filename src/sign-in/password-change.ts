import { checkPasswordPolicy } from '../accounts/passwords.ts';
import { idOfSubject } from '../accounts/subject.ts';
import { scriptContext } from '../connection/scripts.ts';
import { FerryError, ServiceUnavailable } from '../errors.ts';
import { modeOf, type SignInParts } from './parts.ts';
import { MESSAGES } from './service.ts';

const wrongPassword = () => new FerryError('The current password is not correct.', { status: 400, code: 'wrong_password' });

/**
 * Checks `sub`'s current password where it is kept (validatePassword in CUSTOM_USER_STORE, Ferry's
 * own hash otherwise) and answers how to set a new one there; throws when it is wrong.
 */
async function checkCurrent(parts: SignInParts, sub: string, current: string): Promise<(next: string) => Promise<void>> {
  const connection = await parts.settings.current();
  const legacyId = idOfSubject(parts.subjectPrefix, sub);
  if (modeOf(connection) === 'CUSTOM_USER_STORE' && legacyId !== undefined) {
    const context = scriptContext(parts.issuer, {});
    const valid = await parts.runner.run<boolean>(connection, 'validatePassword', [legacyId, current, context], { secrets: [current] });
    if (!valid.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
    if (valid.value !== true) throw wrongPassword();
    return async (next) => {
      const updated = await parts.runner.run(connection, 'updateUser', [legacyId, { password: next }, context], { secrets: [next] });
      if (!updated.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
    };
  }
  const account = await parts.accounts.findBySub(sub);
  if (!account || !(await parts.accounts.verifyPassword(account, current))) throw wrongPassword();
  return async (next) => {
    await parts.accounts.setPassword(account.id, next);
  };
}

/** The account page's password change: validatePassword then updateUser in CUSTOM_USER_STORE, Ferry's own hash otherwise. */
export function createPasswordChange(parts: SignInParts) {
  return async function changePassword(sub: string, current: string, next: string): Promise<void> {
    checkPasswordPolicy(next, parts.policy);
    const change = await checkCurrent(parts, sub, current);
    await change(next);
  };
}

/** The account page's check of the current password before a sensitive change (removing a passkey). */
export function createPasswordCheck(parts: SignInParts) {
  return async function checkPassword(sub: string, current: string): Promise<void> {
    await checkCurrent(parts, sub, current);
  };
}
