import type { Queryable } from '../db.ts';
import { createAccountQueries } from './accounts.ts';
import { createAdminKeyQueries } from './admin-keys.ts';
import { createAuditQueries } from './audit.ts';
import { createClientQueries } from './clients.ts';
import { createEmailVerificationQueries } from './email-verifications.ts';
import { createExecutionQueries } from './executions.ts';
import { createKeyQueries } from './keys.ts';
import { createMailOutboxQueries } from './mail-outbox.ts';
import { createMigrationQueries } from './migration.ts';
import { createOidcModelQueries } from './oidc-models.ts';
import { createPasskeyQueries } from './passkeys.ts';
import { createPasswordResetQueries } from './password-resets.ts';
import { createRateBucketQueries } from './rate-buckets.ts';
import { createScriptQueries } from './scripts.ts';
import { createSecondFactorQueries } from './second-factors.ts';
import { createSessionQueries } from './sessions.ts';
import { createSweepQueries } from './sweeps.ts';
import { createThrottleQueries } from './throttle.ts';
import { createUserActivityQueries } from './user-activity.ts';

/**
 * Every query object over one database, built once by the composition root (src/compose.ts) and
 * handed to each part by name, so no part builds its own from `db`. Queries inside a transaction
 * (src/oidc/keys.ts) still call their factory on the transaction.
 */
export function createQueries(db: Queryable) {
  return {
    accounts: createAccountQueries(db),
    adminKeys: createAdminKeyQueries(db),
    audit: createAuditQueries(db),
    clients: createClientQueries(db),
    emailVerifications: createEmailVerificationQueries(db),
    executions: createExecutionQueries(db),
    keys: createKeyQueries(db),
    mailOutbox: createMailOutboxQueries(db),
    migration: createMigrationQueries(db),
    oidcModels: createOidcModelQueries(db),
    passkeys: createPasskeyQueries(db),
    passwordResets: createPasswordResetQueries(db),
    rateBuckets: createRateBucketQueries(db),
    scripts: createScriptQueries(db),
    secondFactors: createSecondFactorQueries(db),
    sessions: createSessionQueries(db),
    sweeps: createSweepQueries(db),
    throttle: createThrottleQueries(db),
    userActivity: createUserActivityQueries(db),
  };
}

export type Queries = ReturnType<typeof createQueries>;
