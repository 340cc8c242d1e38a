import { hashIdentifier } from '../../audit/index.ts';
import type { Step } from '../attempt.ts';
import type { SignInParts } from '../parts.ts';

/**
 * Records every attempt's outcome in the audit log: the identifier as typed, hashed (never the
 * password), the IP, the client and the reason of a refusal. No store statement on the sign-in's
 * path: the audit log writes its events in batches.
 */
export function auditOutcome(parts: Pick<SignInParts, 'audit'>): Step {
  return async (attempt, next) => {
    await next();
    const result = attempt.result;
    if (!result || !parts.audit) return;
    parts.audit.record({
      type: result.ok ? 'sign-in.succeeded' : result.reason === 'throttled' ? 'sign-in.throttled' : 'sign-in.failed',
      subject: result.ok ? result.sub : attempt.local?.sub,
      identifierHash: hashIdentifier(attempt.identifier?.value ?? attempt.raw),
      ip: attempt.request.ip,
      clientId: attempt.request.clientId,
      outcome: result.ok ? 'success' : result.reason,
      detail: result.path ? { path: result.path } : {},
    });
  };
}
