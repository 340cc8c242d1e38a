import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Execution } from '../execution.ts';
import { optionalRecord, record, string } from './args.ts';
import { ScriptFacingError } from './errors.ts';
import { op, type OpTable } from './types.ts';

/** Addresses no script may call unless the allowlist names them: link-local and cloud metadata services. */
const DENIED = new BlockList();
DENIED.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, including 169.254.169.254 (AWS, GCP, Azure metadata)
DENIED.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
DENIED.addAddress('168.63.129.16', 'ipv4'); // Azure wire server
DENIED.addSubnet('0.0.0.0', 8, 'ipv4');
DENIED.addSubnet('fe80::', 10, 'ipv6');
DENIED.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
DENIED.addAddress('::', 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * IPv6 prefixes whose last 32 bits are an IPv4 address that the packets may end up at:
 * IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96, 64:ff9b:1::/48). IPv4-mapped addresses
 * (::ffff:a.b.c.d) need nothing extra: BlockList already checks them against the IPv4 rules.
 */
const CARRIES_IPV4 = new BlockList();
CARRIES_IPV4.addSubnet('::', 96, 'ipv6');
CARRIES_IPV4.addSubnet('64:ff9b::', 96, 'ipv6');
CARRIES_IPV4.addSubnet('64:ff9b:1::', 48, 'ipv6');

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export interface HttpPolicy {
  /** Host patterns and CIDR ranges; empty means "everything but the denied addresses". */
  allowlist: readonly string[];
  ferryPort: number | undefined;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail and a zone are allowed). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const [head, tail] = text.split('::');
  const start = parse(head);
  if (tail === undefined) return start;
  const end = parse(tail);
  return [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end];
}

/** The IPv4 address an IPv6 address routes to, for the prefixes in CARRIES_IPV4 (not :: and ::1). */
function carriedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6 || !CARRIES_IPV4.check(address, 'ipv6')) return undefined;
  const groups = ipv6Groups(address);
  const [high = 0, low = 0] = groups.slice(6);
  if (groups.slice(0, 6).every((group) => group === 0) && high === 0 && low <= 1) return undefined;
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

function localAddresses(): Set<string> {
  const out = new Set<string>(['0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces())) for (const item of list ?? []) out.add(item.address);
  return out;
}

function allowlistMatches(allowlist: readonly string[], hostname: string, address: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  for (const entry of allowlist) {
    const pattern = entry.toLowerCase();
    if (pattern.includes('/')) {
      const [base, bits] = pattern.split('/');
      const list = new BlockList();
      try {
        list.addSubnet(base!, Number(bits), familyOf(base!));
      } catch {
        continue;
      }
      if (list.check(address, familyOf(address))) return true;
    } else if (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern || address === pattern) {
      return true;
    }
  }
  return false;
}

/** Resolves `url`'s host and returns the address to connect to, or throws why it may not be called. */
export async function vetDestination(url: URL, port: number, policy: HttpPolicy): Promise<string> {
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(hostname) ? [hostname] : (await lookup(hostname, { all: true })).map((entry) => entry.address);
  if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  const refuse = (why: string) => new ScriptFacingError(`Requests to ${url.host} are not allowed: ${why}.`, 'ERR_FERRY_HTTP_DENIED');
  for (const address of addresses) {
    const listed = policy.allowlist.length > 0 && allowlistMatches(policy.allowlist, hostname, address);
    if (policy.allowlist.length > 0 && !listed) throw refuse('the connection only allows the hosts on its HTTP allowlist');
    if (listed) continue;
    const carried = carriedIpv4(address);
    const forms = carried ? [address, carried] : [address];
    if (forms.some((form) => DENIED.check(form, familyOf(form)))) throw refuse('link-local and cloud metadata addresses are blocked');
    const local = forms.some((form) => LOOPBACK.check(form, familyOf(form)) || localAddresses().has(form));
    if (local && policy.ferryPort !== undefined && port === policy.ferryPort) throw refuse("that is Ferry's own port");
  }
  return addresses[0]!;
}

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

async function send(execution: Execution, policy: HttpPolicy, wire: WireRequest, url: URL): Promise<{ response: IncomingMessage; body: Buffer }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ScriptFacingError(`Unsupported protocol ${url.protocol}`, 'ERR_BAD_REQUEST');
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const address = await vetDestination(url, port, policy);
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
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`connect ETIMEDOUT ${url.host} (no connection within ${connectLimit} ms)`), { code: 'ETIMEDOUT' })), connectLimit);
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
          req.destroy(new ScriptFacingError(`The response is larger than ${execution.limits.maxHttpResponseKb} KiB.`, 'ERR_FERRY_RESPONSE_TOO_LARGE'));
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
export function httpOps(policyFor: (execution: Execution) => HttpPolicy): OpTable {
  return {
    'http.request': op(async (execution, [raw]) => {
      const wire = readRequest(raw);
      const policy = policyFor(execution);
      let url: URL;
      try {
        url = new URL(wire.url);
      } catch {
        throw new ScriptFacingError(`Invalid URL: ${wire.url}`, 'ERR_INVALID_URL');
      }
      let redirects = wire.maxRedirects ?? 5;
      let current = wire;
      for (;;) {
        const { response, body } = await send(execution, policy, current, url);
        const location = response.headers.location;
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400 && location && redirects > 0) {
          redirects -= 1;
          url = new URL(location, url);
          if (status === 303 || ((status === 301 || status === 302) && current.method === 'POST')) current = { ...current, method: 'GET', data: undefined } as WireRequest;
          continue;
        }
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(response.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
        return { status, statusText: response.statusMessage ?? '', headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
      }
    }),
  };
}
