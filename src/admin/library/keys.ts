import type { Config } from '../../config/schema.ts';
import { rotateSigningKeys } from '../../oidc/keys.ts';
import type { Database } from '../../store/db.ts';

export interface Rotation {
  /** Key ids of the new signing keys. */
  kids: string[];
  /** Keys that stopped signing (still published until tokens they signed have expired). */
  retired: number;
  /** Retired keys old enough to be dropped. */
  deleted: number;
}

/**
 * Signing key rotation. Retired keys stay published for twice the longest lifetime of a signed
 * token, so every ID token signed before the rotation still verifies.
 */
export function createKeyRotation(deps: { config: Config; db: Database; reloadKeys?: (() => Promise<unknown>) | undefined }) {
  const keepSeconds = 2 * Math.max(deps.config.ttl.idToken, deps.config.ttl.accessToken);
  return {
    async rotate(): Promise<Rotation> {
      const { created, retired, deleted } = await rotateSigningKeys(deps.db, keepSeconds);
      await deps.reloadKeys?.();
      return { kids: created, retired, deleted };
    },
  };
}
