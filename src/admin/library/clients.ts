import { randomBytes } from 'node:crypto';
import { Conflict, FerryError, NotFound } from '../../errors.ts';
import { secretSha256, type ClientCheck } from '../../oidc/stored-clients.ts';
import type { ClientQueries, ClientRow } from '../../store/queries/clients.ts';

export type ClientMetadataInput = Record<string, unknown> & { client_id?: string };

/** A relying party as the admin API and console show it: never its secret. */
export interface AdminClient {
  clientId: string;
  /** `config`: from the configuration file, read-only here; `store`: created through the API or console. */
  source: 'store' | 'config';
  disabled: boolean;
  /** Whether it authenticates with a secret (which is shown only when created or rotated). */
  hasSecret: boolean;
  metadata: Record<string, unknown>;
  createdAt?: string;
  updatedAt?: string;
}

/** A client with the secret just generated for it: the one answer that carries a secret. */
export interface ClientWithSecret {
  client: AdminClient;
  clientSecret?: string;
}

export interface ClientLibraryDeps {
  queries: ClientQueries;
  /** The clients of the configuration file (and the demo's): listed, never changed here. */
  configured: readonly Record<string, unknown>[];
  /** oidc-provider's own validation; absent where there is no provider (the CLI). */
  check?: ClientCheck;
  /** Called after every change, so this instance's cache of stored clients is dropped (src/oidc/stored-clients.ts). */
  changed?: (() => void) | undefined;
}

/** 256 bits, base64url: 43 characters. */
const newSecret = () => randomBytes(32).toString('base64url');
const newClientId = () => randomBytes(12).toString('base64url');

/** Keys oidc-provider reads that are not metadata an administrator sets. */
const NOT_METADATA = new Set([
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
]);

function stored(row: ClientRow): AdminClient {
  return {
    clientId: row.client_id,
    source: 'store',
    disabled: row.disabled,
    hasSecret: row.has_secret,
    metadata: row.metadata,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function fromConfig(metadata: Record<string, unknown>): AdminClient {
  const rest = Object.fromEntries(Object.entries(metadata).filter(([key]) => !NOT_METADATA.has(key)));
  return { clientId: String(metadata.client_id), source: 'config', disabled: false, hasSecret: typeof metadata.client_secret === 'string', metadata: rest };
}

/**
 * Relying parties kept in Ferry's database, next to the read-only ones of the configuration file.
 * Metadata is validated by oidc-provider itself before it is stored; secrets are generated here
 * and returned once. This instance sees a change at once, the others within CLIENT_CACHE_MS (src/oidc/stored-clients.ts).
 */
export function createClientLibrary(deps: ClientLibraryDeps) {
  const { queries: store } = deps;
  // Every write goes through here, so this instance sees its own change at once.
  const queries = {
    ...store,
    insert: (...args: Parameters<ClientQueries['insert']>) => after(store.insert(...args)),
    update: (...args: Parameters<ClientQueries['update']>) => after(store.update(...args)),
    setSecret: (...args: Parameters<ClientQueries['setSecret']>) => after(store.setSecret(...args)),
    setDisabled: (...args: Parameters<ClientQueries['setDisabled']>) => after(store.setDisabled(...args)),
    delete: (...args: Parameters<ClientQueries['delete']>) => after(store.delete(...args)),
  };
  async function after<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      deps.changed?.();
    }
  }
  const configured = new Map(deps.configured.map((client) => [String(client.client_id), client]));

  const readOnly = (clientId: string) => {
    if (configured.has(clientId)) {
      throw new Conflict(`The client ${clientId} comes from the configuration file (clients): change it there and restart.`, 'client_from_configuration');
    }
  };
  const found = async (clientId: string): Promise<ClientRow> => {
    readOnly(clientId);
    const row = await queries.get(clientId);
    if (!row) throw new NotFound(`There is no client ${clientId}.`, 'client_not_found');
    return row;
  };
  const check = (): ClientCheck => {
    if (!deps.check)
      throw new FerryError('Clients are validated by a running Ferry: use the admin API or the console.', { status: 503, code: 'unavailable', expose: true });
    return deps.check;
  };
  const metadataOf = (input: ClientMetadataInput) =>
    Object.fromEntries(Object.entries(input).filter(([key, value]) => value !== undefined && !NOT_METADATA.has(key)));

  return {
    async list(): Promise<AdminClient[]> {
      return [...[...configured.values()].map(fromConfig), ...(await queries.list()).map(stored)];
    },

    async get(clientId: string): Promise<AdminClient> {
      const fromFile = configured.get(clientId);
      if (fromFile) return fromConfig(fromFile);
      const row = await queries.get(clientId);
      if (!row) throw new NotFound(`There is no client ${clientId}.`, 'client_not_found');
      return stored(row);
    },

    async create(input: ClientMetadataInput): Promise<ClientWithSecret> {
      const clientId = input.client_id ?? newClientId();
      const metadata = metadataOf(input);
      await check().validate({ ...metadata, client_id: clientId });
      if (configured.has(clientId)) throw new Conflict(`The client id ${clientId} is taken by the configuration file.`, 'client_exists');
      const secret = check().needsSecret(metadata) ? newSecret() : null;
      if (!(await queries.insert(clientId, metadata, secret === null ? null : secretSha256(secret))))
        throw new Conflict(`The client id ${clientId} is taken.`, 'client_exists');
      const row = (await queries.get(clientId))!;
      return { client: stored(row), ...(secret ? { clientSecret: secret } : {}) };
    },

    /**
     * Replaces the metadata. A client that now needs a secret and had none gets one (returned);
     * one that no longer needs it loses it.
     */
    async update(clientId: string, input: ClientMetadataInput): Promise<ClientWithSecret> {
      const row = await found(clientId);
      const metadata = metadataOf(input);
      await check().validate({ ...metadata, client_id: clientId });
      const needs = check().needsSecret(metadata);
      const secret = needs && !row.has_secret ? newSecret() : needs ? undefined : null;
      if (!(await queries.update(clientId, metadata, typeof secret === 'string' ? secretSha256(secret) : secret)))
        throw new NotFound(`There is no client ${clientId}.`, 'client_not_found');
      return { client: stored((await queries.get(clientId))!), ...(secret ? { clientSecret: secret } : {}) };
    },

    /** A new secret; the old one stops working here at once, on the other instances within CLIENT_CACHE_MS. */
    async rotateSecret(clientId: string): Promise<ClientWithSecret & { clientSecret: string }> {
      const row = await found(clientId);
      if (!row.has_secret)
        throw new Conflict(`The client ${clientId} has no secret (token_endpoint_auth_method none or private_key_jwt).`, 'client_has_no_secret');
      const secret = newSecret();
      if (!(await queries.setSecret(clientId, secretSha256(secret)))) throw new NotFound(`There is no client ${clientId}.`, 'client_not_found');
      return { client: stored((await queries.get(clientId))!), clientSecret: secret };
    },

    async setDisabled(clientId: string, disabled: boolean): Promise<AdminClient> {
      await found(clientId);
      if (!(await queries.setDisabled(clientId, disabled))) throw new NotFound(`There is no client ${clientId}.`, 'client_not_found');
      return stored((await queries.get(clientId))!);
    },

    async delete(clientId: string): Promise<void> {
      readOnly(clientId);
      if (!(await queries.delete(clientId))) throw new NotFound(`There is no client ${clientId}.`, 'client_not_found');
    },
  };
}

export type ClientLibrary = ReturnType<typeof createClientLibrary>;
