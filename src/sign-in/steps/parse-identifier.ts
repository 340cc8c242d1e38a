import { parseIdentifier as parse } from '../../accounts/identifier.ts';
import type { Step } from '../attempt.ts';
import { MESSAGES } from '../service.ts';

/** An email, phone number or username, and a password: anything else ends here, before any database is asked. */
export const parseIdentifier: Step = async (attempt, next) => {
  const identifier = parse(attempt.raw);
  if (!identifier || !attempt.password) {
    attempt.result = { ok: false, reason: 'invalid_identifier', message: MESSAGES.invalidIdentifier };
    return;
  }
  attempt.identifier = identifier;
  await next();
};
