import type Provider from 'oidc-provider';
import type { Adapter, AdapterConstructor, AdapterFactory, AdapterPayload, ClientMetadata } from 'oidc-provider';
import { BadRequest } from '../errors.ts';
import type { ClientQueries } from '../store/queries/clients.ts';
import { readOnce } from '../store/request-scope.ts';

/**
 * oidc-provider looks a client up through the adapter for its 'Client' model when the client is not
 * in its `clients` configuration (lib/models/client.js `find`), on every request that names one, and
 * builds a new Client whenever the metadata it gets differs (its cache is keyed by a hash of them).
 * So clients read from Ferry's table here are as current as the database on every instance: an
 * edit, a rotation, a disable or a delete counts from the next request. Reads are memoised for the
 * length of one request only. Ferry writes clients itself (src/admin/library/clients.ts); the
 * provider's own writes (dynamic registration, off) are refused.
 */
export function withStoredClients(StoreAdapter: AdapterConstructor, clients: Pick<ClientQueries, 'findEnabled'>): AdapterFactory {
  const clientAdapter: Adapter = {
    find: (id) => readOnce(`Client\0${id}`, async () => (await clients.findEnabled(id)) as AdapterPayload | undefined),
    upsert: async () => refuse(),
    destroy: async () => refuse(),
    consume: async () => refuse(),
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    revokeByGrantId: async () => undefined,
  };
  return (name) => (name === 'Client' ? clientAdapter : new StoreAdapter(name));
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
      const candidate = { ...metadata, ...(needsSecret(metadata) ? { client_secret: PLACEHOLDER_SECRET } : {}) } as ClientMetadata;
      try {
        await provider().Client.validate(candidate);
      } catch (error) {
        throw invalidMetadata(error, metadata);
      }
    },
  };
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
