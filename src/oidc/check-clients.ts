import type Provider from 'oidc-provider';
import type { ClientConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';

/**
 * oidc-provider validates a configured client's metadata only when the client is first looked up,
 * so a bad value would start fine and fail at the first sign-in. Looking every client up at start
 * turns its complaint into a configuration error naming the key.
 */
export async function checkClients(provider: Provider, clients: readonly ClientConfig[]): Promise<void> {
  const problems: string[] = [];
  for (const [index, client] of clients.entries()) {
    try {
      await provider.Client.find(client.client_id);
    } catch (error) {
      problems.push(describe(index, client, error));
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.map((line) => `  - ${line}`).join('\n')}`);
}

/** "token_endpoint_auth_method must be …" → "clients[0].token_endpoint_auth_method: must be …". */
function describe(index: number, client: ClientConfig, error: unknown): string {
  const { error_description: description, message } = error as { error_description?: string; message?: string };
  const text = description ?? message ?? String(error);
  const [, field, rest] = /^([a-z][a-z0-9_]*) (.*)$/s.exec(text) ?? [];
  const named = field !== undefined && (field.includes('_') || field in client);
  return named ? `clients[${index}].${field}: ${rest}` : `clients[${index}] (${client.client_id}): ${text}`;
}
