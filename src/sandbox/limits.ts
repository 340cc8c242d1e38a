import { z } from 'zod';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** What one script execution may use. Every limit has a safe default; a connection may change them. */
export const limitsSchema = z.strictObject({
  /** Wall-clock deadline for the whole execution, awaited I/O and waiting for an isolate included. */
  timeoutMs: int(100, 120_000, 10_000),
  /** CPU time the script itself may spend (drivers and bcrypt run on the host and do not count). */
  cpuTimeMs: int(10, 60_000, 5_000),
  /** Heap of the isolate, in MiB. */
  memoryMb: int(8, 1024, 64),
  /** Largest script source accepted, in KiB. */
  maxScriptKb: int(1, 4096, 256),
  /** console output kept per execution, in KiB; the rest is cut. */
  maxConsoleKb: int(1, 4096, 64),
  /** Bridged operations (queries, requests, hashes) in flight at once. */
  maxBridgeOps: int(1, 256, 16),
  /** Database connections one execution may hold at once. */
  maxConnections: int(1, 64, 4),
  /**
   * Connections kept open to each legacy database (per Ferry instance), shared by the executions:
   * a script's connect() takes one and end() gives it back.
   */
  poolSize: int(1, 256, 10),
  /** Pending timers at once. */
  maxTimers: int(1, 10_000, 64),
  /** Rows (or documents) one query may return. */
  maxRows: int(1, 1_000_000, 10_000),
  /** Connecting to a database or HTTP server gives up after this long. */
  connectTimeoutMs: int(100, 60_000, 5_000),
  /** Highest bcrypt cost a script may hash or compare with. */
  maxBcryptCost: int(4, 16, 14),
  /**
   * crypto.pbkdf2's work a script may ask for, counted as iterations × output blocks (a key
   * longer than the digest is computed block by block, each block costing every iteration).
   */
  maxPbkdf2Iterations: int(1, 100_000_000, 2_000_000),
  /** crypto.scrypt's memory and work a script may ask for, as 128·N·r·p bytes, in MiB. */
  maxScryptMemoryMb: int(1, 1024, 64),
  /** Bytes one crypto hash or HMAC may take (all its updates), and one key, password or salt, in KiB. */
  maxCryptoInputKb: int(1, 65_536, 1024),
  /** Bytes crypto.randomBytes may make and pbkdf2/scrypt may derive in one call. */
  maxCryptoOutputBytes: int(16, 1_048_576, 4096),
  /**
   * Largest value that leaves the isolate, in KiB (UTF-8 bytes of its strings, 8 per number): the
   * script's result, and the arguments of each driver, axios or bcrypt call. Measured inside the
   * isolate before anything is copied to Ferry's process; over it the execution ends as `limit`.
   */
  maxResultKb: int(1, 65_536, 1024),
  /**
   * Largest result one query may bring into Ferry's process, in KiB: the bytes arriving from the
   * database for one statement (pg, mysql2) or the documents and rows one call returns (mongodb,
   * mssql). Reading stops once it is exceeded and the execution ends as `limit`.
   */
  maxQueryResultKb: int(1, 1_048_576, 8192),
  /** Largest HTTP response body accepted, in KiB. */
  maxHttpResponseKb: int(1, 102_400, 1024),
});

/**
 * `connection.egress`: where the connection's scripts may connect, with every driver (pg, mysql2,
 * mongodb, mssql) and with axios. Each host a script names is resolved and every address checked.
 */
export const egressSchema = z.strictObject({
  /**
   * Host names (`db.example.com`, `*.example.com`), optionally with a port (`db.example.com:5432`),
   * and IP ranges (`10.0.0.0/8`). Empty: any destination but those always refused. Always refused,
   * whatever is listed: link-local and cloud-metadata addresses, Ferry's own listening port, and
   * Ferry's own database (same host, port and database name).
   */
  allow: z.array(z.string().min(1).max(255)).max(256).default([]),
});
export type Egress = z.output<typeof egressSchema>;
export type EgressInput = z.input<typeof egressSchema>;

/**
 * Settings saved before `connection.egress` existed kept the HTTP allowlist among the limits
 * (`limits.httpAllowlist`): it becomes `egress.allow`, unless `egress` is already there.
 */
export function upgradeConnectionSettings<T>(saved: T): T {
  if (!saved || typeof saved !== 'object') return saved;
  const { limits, ...rest } = saved as { limits?: unknown; egress?: unknown };
  if (!limits || typeof limits !== 'object' || !('httpAllowlist' in limits)) return saved;
  const { httpAllowlist, ...kept } = limits as { httpAllowlist?: unknown };
  const egress = rest.egress ?? (Array.isArray(httpAllowlist) ? { allow: httpAllowlist } : undefined);
  return { ...rest, limits: kept, ...(egress === undefined ? {} : { egress }) } as T;
}

type LimitFields = typeof limitsSchema.shape;

/**
 * A change to some of the limits: the same fields and bounds with no defaults, so a limit the
 * change leaves out stays absent (and keeps its current value) instead of being reset.
 */
export const limitsChangeSchema = z.strictObject(
  Object.fromEntries(Object.entries(limitsSchema.shape).map(([key, field]) => [key, field.unwrap().optional()])) as {
    [K in keyof LimitFields]: z.ZodOptional<ReturnType<LimitFields[K]['unwrap']>>;
  },
);

export type Limits = z.output<typeof limitsSchema>;
export type LimitsInput = z.input<typeof limitsSchema>;
export const DEFAULT_LIMITS: Limits = limitsSchema.parse({});

/** A request's limits and egress rules, checked, with the defaults filled in (throws a ZodError). */
export function checkedLimits(request: { limits?: LimitsInput | Limits | undefined; egress?: EgressInput | undefined }): { limits: Limits; egress: Egress } {
  return { limits: limitsSchema.parse({ ...DEFAULT_LIMITS, ...request.limits }), egress: egressSchema.parse(request.egress ?? {}) };
}
