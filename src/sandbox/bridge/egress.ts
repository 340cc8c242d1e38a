import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parse as parsePgUrl } from 'pg-connection-string';
import { ScriptFacingError } from './errors.ts';

/** Where Ferry keeps its own data: a script may never connect to that database. Plain data. */
export interface StoreAddress {
  host: string;
  port: number;
  database: string;
}

/** What one execution may connect to: `connection.egress`, plus what Ferry knows of itself. */
export interface EgressPolicy {
  /** `host`, `*.suffix`, `host:port` or a CIDR range; empty means "anything not always refused". */
  allow: readonly string[];
  /** Ferry's own listening port. */
  ferryPort: number | undefined;
  store: StoreAddress | undefined;
}

/** One connection a script is about to open. `database` only for PostgreSQL, the store's kind. */
export interface Destination {
  host: string;
  port: number;
  database?: string | undefined;
}

/**
 * The one answer to every refused destination, whichever rule refused it and whether or not
 * anything listens there: a script must not learn which ports are open, nor what Ferry is.
 */
export function denied(): ScriptFacingError {
  return new ScriptFacingError('destination not allowed', 'ERR_FERRY_EGRESS_DENIED');
}

/** Addresses no script may reach whatever the allow list says: link-local and cloud metadata services. */
const ALWAYS_DENIED = new BlockList();
ALWAYS_DENIED.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, including 169.254.169.254 (AWS, GCP, Azure metadata)
ALWAYS_DENIED.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
ALWAYS_DENIED.addAddress('168.63.129.16', 'ipv4'); // Azure wire server
ALWAYS_DENIED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_DENIED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_DENIED.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
ALWAYS_DENIED.addAddress('::', 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * IPv6 prefixes whose last 32 bits are an IPv4 address that the packets may end up at:
 * IPv4-compatible (::a.b.c.d), IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96, 64:ff9b:1::/48).
 */
const CARRIES_IPV4 = new BlockList();
CARRIES_IPV4.addSubnet('::', 96, 'ipv6');
CARRIES_IPV4.addSubnet('::ffff:0:0', 96, 'ipv6');
CARRIES_IPV4.addSubnet('64:ff9b::', 96, 'ipv6');
CARRIES_IPV4.addSubnet('64:ff9b:1::', 48, 'ipv6');

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

/** An address and, for IPv6 forms that carry one, the IPv4 address the packets reach. */
function formsOf(address: string): string[] {
  const carried = carriedIpv4(address);
  return carried ? [address, carried] : [address];
}

function localAddresses(): Set<string> {
  const out = new Set<string>(['0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces())) for (const item of list ?? []) out.add(item.address);
  return out;
}

/** True for an address of this machine (loopback, any interface's, or the unspecified address). */
function isLocal(address: string, local: Set<string>): boolean {
  return formsOf(address).some((form) => LOOPBACK.check(form, familyOf(form)) || local.has(form));
}

/** `host`, `[v6]:port`, `host:port` → host and optional port. */
function splitEntry(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort) return { host: withPort[1]!, port: Number(withPort[2]) };
  return { host: entry, port: undefined };
}

function allowed(allow: readonly string[], hostname: string, address: string, port: number): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  for (const raw of allow) {
    const entry = raw.toLowerCase();
    if (entry.includes('/')) {
      const [base, bits] = entry.split('/');
      const list = new BlockList();
      try {
        list.addSubnet(base!, Number(bits), familyOf(base!));
      } catch {
        continue;
      }
      if (formsOf(address).some((form) => list.check(form, familyOf(form)))) return true;
      continue;
    }
    const { host: pattern, port: only } = splitEntry(entry);
    if (only !== undefined && only !== port) continue;
    if (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern || address === pattern) return true;
  }
  return false;
}

async function resolve(host: string): Promise<string[]> {
  const name = host.replace(/^\[|\]$/g, '');
  if (isIP(name)) return [name];
  const found = await lookup(name, { all: true });
  if (found.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return found.map((entry) => entry.address);
}

/** True when `a` and `b` (resolved addresses) are the same machine: equal, or both this one. */
function sameHost(a: string[], b: string[], local: Set<string>): boolean {
  const forms = (list: string[]) => new Set(list.flatMap(formsOf));
  const left = forms(a);
  if ([...forms(b)].some((form) => left.has(form))) return true;
  return a.some((address) => isLocal(address, local)) && b.some((address) => isLocal(address, local));
}

/**
 * Checks a destination a script is about to connect to, on every address its host resolves to,
 * and returns those addresses. Always refused, whatever `allow` says: link-local and cloud
 * metadata addresses, Ferry's own port on this machine, Ferry's own store database (same host,
 * port and database, so a legacy database on the same server still works) and Unix sockets;
 * with a non-empty `allow`, anything it does not list. Every refusal is `denied()`.
 */
export async function checkDestination(policy: EgressPolicy, destination: Destination): Promise<string[]> {
  const { host, port } = destination;
  // A path is a Unix socket (node-postgres reads it so), which no address rule could describe.
  if (host.startsWith('/') || !Number.isInteger(port) || port < 0 || port > 65535) throw denied();
  const addresses = await resolve(host);
  const local = localAddresses();
  for (const address of addresses) {
    if (formsOf(address).some((form) => ALWAYS_DENIED.check(form, familyOf(form)))) throw denied();
    if (policy.ferryPort !== undefined && port === policy.ferryPort && isLocal(address, local)) throw denied();
    if (policy.allow.length > 0 && !allowed(policy.allow, host, address, port)) throw denied();
  }
  const store = policy.store;
  if (store && port === store.port && (destination.database === undefined || destination.database === store.database)) {
    const storeAddresses = await resolve(store.host).catch(() => [store.host]);
    if (sameHost(addresses, storeAddresses, local)) throw denied();
  }
  return addresses;
}

/**
 * Where a node-postgres config connects, as node-postgres itself reads it: a connection string's
 * parts override the separate fields, the host defaults to localhost, the port to 5432 and the
 * database to the user's name. A Unix socket directory counts as this machine.
 */
export function postgresDestination(config: {
  connectionString?: unknown;
  host?: unknown;
  port?: unknown;
  user?: unknown;
  database?: unknown;
}): Destination & { socket: boolean } {
  const fromUrl = typeof config.connectionString === 'string' ? parsePgUrl(config.connectionString) : {};
  const merged = {
    ...config,
    ...Object.fromEntries(Object.entries(fromUrl).filter(([, value]) => value !== undefined && value !== null && value !== '')),
  } as Record<string, unknown>;
  const host = typeof merged.host === 'string' && merged.host !== '' ? merged.host : (process.env.PGHOST ?? 'localhost');
  const user = typeof merged.user === 'string' && merged.user !== '' ? merged.user : (process.env.PGUSER ?? process.env.USER ?? '');
  const database = typeof merged.database === 'string' && merged.database !== '' ? merged.database : (process.env.PGDATABASE ?? user);
  return { host, port: Number(merged.port) || 5432, database, socket: host.startsWith('/') };
}

/** Ferry's store as plain data, from `databaseUrl` (undefined for the embedded database). */
export function storeAddress(databaseUrl: string | undefined): StoreAddress | undefined {
  if (!databaseUrl) return undefined;
  const { host, port, database, socket } = postgresDestination({ connectionString: databaseUrl });
  return { host: socket ? '127.0.0.1' : host, port, database: database ?? '' };
}
