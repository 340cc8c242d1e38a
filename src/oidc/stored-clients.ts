import { createHash, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Adapter, AdapterConstructor, AdapterFactory, AdapterPayload, ClientMetadata } from 'oidc-provider';
import { BadRequest } from '../errors.ts';
import type { ClientQueries } from '../store/queries/clients.ts';
import { readOnce } from '../store/request-scope.ts';

/** How long an instance keeps a stored client it has read: another instance's change reaches it within this long. */
export const CLIENT_CACHE_MS = 2000;
/** Client ids kept at most (unknown ones included, so a flood of made-up ids cannot grow it without end). */
const CACHE_ENTRIES = 1000;

/**
 * Clients kept in Ferry's table, as oidc-provider reads them. Each instance keeps what it read for
 * CLIENT_CACHE_MS (an unknown id too): without it a sign-in would read its client in five of its
 * requests, 5 of 17 store round trips. The instance that changes a client forgets at once
 * (`forget`); the others follow within CLIENT_CACHE_MS, as they do for connection settings.
 */
export function createStoredClients(queries: Pick<ClientQueries, 'findEnabled'>, cacheMs = CLIENT_CACHE_MS) {
  const cache = new Map<string, { at: number; read: Promise<Record<string, unknown> | undefined> }>();
  const read = async (clientId: string) => {
    const row = await queries.findEnabled(clientId);
    if (!row) return undefined;
    return { ...row.metadata, client_id: clientId, ...(row.secretSha256 === null ? {} : { client_secret: `${HASHED}${row.secretSha256}` }) };
  };
  return {
    find(clientId: string): Promise<Record<string, unknown> | undefined> {
      const now = Date.now();
      const kept = cache.get(clientId);
      if (kept && now - kept.at < cacheMs) return kept.read;
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      const reading = read(clientId);
      cache.set(clientId, { at: now, read: reading });
      // A failed read is not kept: the next request tries again.
      reading.catch(() => cache.get(clientId)?.read === reading && cache.delete(clientId));
      return reading;
    },
    /** After a change made here: this instance reads the table again at once. */
    forget(): void {
      cache.clear();
    },
  };
}

export type StoredClients = ReturnType<typeof createStoredClients>;

/**
 * oidc-provider looks a client up through the adapter for its 'Client' model when the client is not
 * in its `clients` configuration (lib/models/client.js `find`), on every request that names one, and
 * builds a new Client whenever the metadata it gets differs (its cache is keyed by a hash of them).
 * So clients read from Ferry's table here are as current as `StoredClients` above: an edit, a
 * rotation, a disable or a delete counts on every instance within CLIENT_CACHE_MS. Ferry writes
 * clients itself (src/admin/library/clients.ts); the provider's own writes (dynamic registration,
 * off) are refused.
 */
export function withStoredClients(StoreAdapter: AdapterConstructor, clients: Pick<StoredClients, 'find'>): AdapterFactory {
  const clientAdapter: Adapter = {
    find: (id) => readOnce(`Client\0${id}`, async () => (await clients.find(id)) as AdapterPayload | undefined),
    upsert: async () => refuse(),
    destroy: async () => refuse(),
    consume: async () => refuse(),
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    revokeByGrantId: async () => undefined,
  };
  return (name) => (name === 'Client' ? clientAdapter : new StoreAdapter(name));
}

/** The SHA-256 of a secret, base64url: what Ferry's table keeps of a stored client's secret. */
export const secretSha256 = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

/** Marks a stored client's `client_secret` as the hash of the secret, not the secret itself. */
const HASHED = 'ferry-sha256:';

/**
 * oidc-provider compares a client secret with the one in the client's metadata
 * (`Client#compareClientSecret`). For stored clients that is the hash: the secret presented is
 * hashed first. Configured clients (oidc-provider's `noManage`) keep their plain comparison.
 * Stored clients cannot use what needs the secret itself (client_secret_jwt, HS* or symmetric
 * encryption algs: refused by `createClientCheck`).
 */
export function compareHashedSecrets(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as {
    compareClientSecret(this: { clientSecret?: string; noManage?: boolean }, actual: string): Promise<boolean> | boolean;
  };
  const plain = prototype.compareClientSecret;
  prototype.compareClientSecret = function compareClientSecret(actual) {
    const stored = this.clientSecret;
    if (this.noManage || typeof stored !== 'string' || !stored.startsWith(HASHED)) return plain.call(this, actual);
    const expected = Buffer.from(stored.slice(HASHED.length));
    const presented = Buffer.from(secretSha256(String(actual)));
    return expected.length === presented.length && timingSafeEqual(expected, presented);
  };
}

function refuse(): never {
  throw new Error('clients are written through the admin API, not by oidc-provider');
}

/** What the admin library needs from oidc-provider to accept client metadata. */
export interface ClientCheck {
  /** Throws a BadRequest naming the field oidc-provider refused. */
  validate(metadata: Record<string, unknown>): Promise<void>;
  /** Whether a client with this metadata authenticates with a secret (client_secret_* or an HMAC alg). */
  needsSecret(metadata: Record<string, unknown>): boolean;
}

/** A stand-in secret for validation, as long as the ones Ferry generates. */
const PLACEHOLDER_SECRET = 'x'.repeat(43);

/** Validates with the running provider's own Client schema (its clientDefaults and extra metadata included). */
export function createClientCheck(provider: () => Provider): ClientCheck {
  const needsSecret = (metadata: Record<string, unknown>) =>
    (provider().Client as unknown as { needsSecret(m: Record<string, unknown>): boolean }).needsSecret({
      token_endpoint_auth_method: 'client_secret_basic',
      ...metadata,
    });
  return {
    needsSecret,
    async validate(metadata) {
      refuseSecretKeyed(metadata);
      const candidate = { ...metadata, ...(needsSecret(metadata) ? { client_secret: PLACEHOLDER_SECRET } : {}) } as ClientMetadata;
      try {
        await provider().Client.validate(candidate);
      } catch (error) {
        throw invalidMetadata(error, metadata);
      }
    },
  };
}

/** Metadata that would use the client secret as a key (HMAC or symmetric encryption): Ferry keeps only its hash. */
function refuseSecretKeyed(metadata: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(metadata)) {
    const keyed =
      (field === 'token_endpoint_auth_method' && value === 'client_secret_jwt') ||
      (field.endsWith('_alg') && typeof value === 'string' && (/^HS/.test(value) || /^(A|dir$)/.test(value)));
    if (!keyed) continue;
    const message = `${String(value)} needs the client secret in clear, and Ferry keeps only its hash: use another value, or put this client in the configuration file`;
    throw new BadRequest(`The client metadata is not valid. ${field}: ${message}`, 'invalid_client_metadata', [{ path: field, message }]);
  }
}

/** "redirect_uris must contain members" → 400 invalid_client_metadata, details [{ path: 'redirect_uris', … }]. */
function invalidMetadata(error: unknown, metadata: Record<string, unknown>): BadRequest {
  const { error_description: description, message } = error as { error_description?: string; message?: string };
  const text = description ?? message ?? String(error);
  const [, field, rest] = /^([a-z][a-z0-9_]*) (.*)$/s.exec(text) ?? [];
  const path = field !== undefined && (field.includes('_') || field in metadata) ? field : '';
  const problem = path ? `${path}: ${rest}` : text;
  return new BadRequest(`The client metadata is not valid. ${problem}`, 'invalid_client_metadata', [{ path, message: path ? rest : text }]);
}
