import { generateKeyPairSync, randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import type { Database } from '../store/db.ts';
import { createKeyQueries, type SigningKeyRow } from '../store/queries/keys.ts';

/** One RSA key (RS256, which every OIDC client supports) and one P-256 key (ES256). */
export function generateSigningKeys(): Record<string, unknown>[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [withMeta(rsa, 'RS256'), withMeta(ec, 'ES256')];
}

function withMeta(jwk: webcrypto.JsonWebKey, alg: string): Record<string, unknown> {
  return { ...jwk, kid: randomUUID(), alg, use: 'sig' };
}

/** Advisory lock id: two instances starting together must not both create keys. */
const KEYS_LOCK = 4_807_761_002;

export interface KeyMaterial {
  /** Private JWKs, active keys first (they sign), then retired ones (still published for verification). */
  signingKeys: Record<string, unknown>[];
  cookieKeys: string[];
  /** Changes whenever the set of signing keys changes; instances compare it to notice a rotation. */
  fingerprint: string;
}

/** Loads the keys, creating them on first start. */
export async function loadKeyMaterial(db: Database): Promise<KeyMaterial> {
  const queries = createKeyQueries(db);
  let rows = await queries.listSigningKeys();
  if (!rows.some((row) => row.retired_at === null)) {
    await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [KEYS_LOCK]);
      const inTx = createKeyQueries(tx);
      if ((await inTx.listSigningKeys()).some((row) => row.retired_at === null)) return;
      for (const jwk of generateSigningKeys()) await inTx.insertSigningKey(jwk.kid as string, jwk);
    });
    rows = await queries.listSigningKeys();
  }
  const cookieKeys = await queries.putSettingIfAbsent('cookie_keys', [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')]);
  return { signingKeys: rows.map((row) => row.jwk), cookieKeys, fingerprint: fingerprintOf(rows) };
}

/** Reads the key set's fingerprint, to notice a rotation made by another instance. */
export async function signingKeysFingerprint(db: Database): Promise<string> {
  return fingerprintOf(await createKeyQueries(db).listSigningKeys());
}

function fingerprintOf(rows: readonly SigningKeyRow[]): string {
  return rows.map((row) => `${row.kid}:${row.retired_at ? 'retired' : 'active'}`).join(',');
}

/**
 * Makes new signing keys the active ones. The old ones stay published, retired, for `keepSeconds`
 * (long enough for every token they signed to expire), then they are deleted.
 */
export async function rotateSigningKeys(db: Database, keepSeconds: number): Promise<{ created: string[]; retired: number; deleted: number }> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [KEYS_LOCK]);
    const queries = createKeyQueries(tx);
    const fresh = generateSigningKeys();
    for (const jwk of fresh) await queries.insertSigningKey(jwk.kid as string, jwk);
    const created = fresh.map((jwk) => jwk.kid as string);
    const retired = await queries.retireSigningKeys(created);
    const deleted = await queries.deleteRetiredBefore(new Date(Date.now() - keepSeconds * 1000));
    return { created, retired, deleted };
  });
}
