import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Execution } from '../execution.ts';
import { optionalRecord, record, string } from './args.ts';
import { checkDestination } from './egress.ts';
import { ScriptFacingError } from './errors.ts';
import { op, type OpGroup } from './types.ts';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  data?: string | Uint8Array;
  timeout?: number;
  maxRedirects?: number;
}

function readRequest(raw: unknown): WireRequest {
  const given = record(raw, 'request');
  const method = string(given.method ?? 'GET', 'method').toUpperCase();
  if (!METHODS.has(method)) throw new ScriptFacingError(`Unsupported HTTP method ${method}`, 'ERR_BAD_OPTION_VALUE');
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(optionalRecord(given.headers, 'headers'))) if (typeof value === 'string') headers[key] = value;
  const data = given.data === undefined || given.data === null ? undefined : given.data instanceof Uint8Array ? given.data : String(given.data);
  return {
    method,
    url: string(given.url, 'url'),
    headers,
    ...(data === undefined ? {} : { data }),
    ...(typeof given.timeout === 'number' && given.timeout > 0 ? { timeout: given.timeout } : {}),
    ...(typeof given.maxRedirects === 'number' ? { maxRedirects: given.maxRedirects } : {}),
  };
}

async function send(execution: Execution, wire: WireRequest, url: URL): Promise<{ response: IncomingMessage; body: Buffer }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ScriptFacingError(`Unsupported protocol ${url.protocol}`, 'ERR_BAD_REQUEST');
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const [address] = (await checkDestination(execution.egress, { host: url.hostname, port })) as [string];
  const timeout = Math.min(wire.timeout ?? Infinity, execution.pastDeadline());
  const limit = execution.limits.maxHttpResponseKb * 1024;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: wire.method,
      headers: { 'user-agent': 'Ferry-script', ...wire.headers },
      signal: execution.signal,
      timeout,
      lookup: (_host, options, callback) => {
        const all = (options as { all?: boolean }).all;
        if (all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family: isIP(address) }]);
        else callback(null, address, isIP(address));
      },
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`timeout of ${timeout}ms exceeded`), { code: 'ECONNABORTED' })));
    // Connecting has its own, shorter limit: a host that never answers is unavailable, not slow.
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const connectLimit = execution.boundedTimeout(execution.limits.connectTimeoutMs);
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error(`connect ETIMEDOUT ${url.host} (no connection within ${connectLimit} ms)`), { code: 'ETIMEDOUT' })),
        connectLimit,
      );
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    req.on('error', reject);
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          req.destroy(
            execution.refuse(
              'limit',
              `An HTTP response is larger than the limit of ${execution.limits.maxHttpResponseKb} KiB (connection.limits.maxHttpResponseKb).`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve({ response, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    if (wire.data !== undefined) req.write(wire.data);
    req.end();
  });
}

/** Host operation behind the isolate's `axios`: one request, redirects followed (and vetted) by the host. */
export function httpOps(): OpGroup<'http'> {
  return {
    'http.request': op(async (execution, [raw]) => {
      const wire = readRequest(raw);
      let url: URL;
      try {
        url = new URL(wire.url);
      } catch {
        throw new ScriptFacingError(`Invalid URL: ${wire.url}`, 'ERR_INVALID_URL');
      }
      let redirects = wire.maxRedirects ?? 5;
      let current = wire;
      for (;;) {
        const { response, body } = await send(execution, current, url);
        const location = response.headers.location;
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400 && location && redirects > 0) {
          redirects -= 1;
          url = new URL(location, url);
          if (status === 303 || ((status === 301 || status === 302) && current.method === 'POST'))
            current = { ...current, method: 'GET', data: undefined } as WireRequest;
          continue;
        }
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(response.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
        return { status, statusText: response.statusMessage ?? '', headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
      }
    }),
  };
}
