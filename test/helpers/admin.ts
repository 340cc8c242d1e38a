import type { TestFerry } from './ferry.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789-abcdefghijklmnop';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  // The tests read answers loosely; their shapes are checked by assertions.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  body: any;
}

/**
 * A client for the admin API that keeps every answer's text, so a test can check that something
 * (a secret) never appeared in any of them.
 */
/** `token: null` sends no Authorization header. */
export function adminClient(ferry: Pick<TestFerry, 'issuer'>, token: string | null = ADMIN_TOKEN) {
  const seen: string[] = [];
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> => {
    const response = await fetch(`${ferry.issuer}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    seen.push(text, JSON.stringify([...response.headers]));
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  return {
    call,
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body),
    put: (path: string, body?: unknown) => call('PUT', path, body),
    patch: (path: string, body?: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
    /** Every answer so far (bodies and headers), as text. */
    seen: () => seen.join('\n'),
  };
}
