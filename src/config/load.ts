import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';

export const DEFAULT_CONFIG_FILE = 'ferry.config.json';

/** Environment variables that name a key directly; every other key is `FERRY_<KEY>`. */
const ALIASES: Record<string, string> = {
  DATABASE_URL: 'databaseUrl',
  PORT: 'port',
};
/**
 * `FERRY_*` variables Ferry reads for other purposes: the configuration file's path, the CLI's
 * server URL (src/cli/remote.ts; its token, FERRY_ADMIN_TOKEN, is the `adminToken` key) and the
 * tests' service addresses. Any other unknown `FERRY_*` name stays an error.
 */
const NOT_KEYS = new Set(['FERRY_CONFIG', 'FERRY_URL']);
const isNotKey = (name: string) => NOT_KEYS.has(name) || name.startsWith('FERRY_TEST_');

type Env = Record<string, string | undefined>;
type Origin = Map<string, string>;

export interface LoadedConfig {
  config: Config;
  /** The file the configuration came from, if any. */
  file: string | undefined;
}

/**
 * Reads the configuration: the JSON file named by `FERRY_CONFIG`, else `./ferry.config.json` if it
 * exists, then the environment on top. Throws a ConfigError that names every bad key.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): LoadedConfig {
  const file = findConfigFile(env, cwd);
  const raw = file ? readConfigFile(file) : {};
  const origin: Origin = new Map();
  applyEnvironment(raw, env, origin);
  return { config: parseConfig(raw, { file, origin }), file };
}

function findConfigFile(env: Env, cwd: string): string | undefined {
  if (env.FERRY_CONFIG) {
    const file = resolve(cwd, env.FERRY_CONFIG);
    if (!existsSync(file)) throw new ConfigError(`FERRY_CONFIG names ${file}, which does not exist.`);
    return file;
  }
  const file = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(file) ? file : undefined;
}

function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new ConfigError(`${file} must hold a JSON object.`);
  return parsed;
}

/** `FERRY_TTL__SESSION=60` sets `ttl.session`; values that look like JSON objects or arrays are parsed. */
function applyEnvironment(raw: Record<string, unknown>, env: Env, origin: Origin): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || isNotKey(name)) continue;
    const path = ALIASES[name]?.split('.') ?? envNameToPath(name);
    if (!path) continue;
    if (ALIASES[name] && env[`FERRY_${name}`] !== undefined) continue; // the FERRY_ spelling wins
    setPath(raw, path, parseEnvValue(name, value));
    origin.set(path.join('.'), name);
  }
}

/**
 * FERRY_TTL__SESSION → ttl.session. Below `env` (the scripts' variables) names are kept as they
 * are: FERRY_CONNECTION__ENV__DB_CONNECTION_URI → connection.env.DB_CONNECTION_URI.
 */
function envNameToPath(name: string): string[] | undefined {
  if (!name.startsWith('FERRY_') || name.length === 'FERRY_'.length) return undefined;
  const parts = name.slice('FERRY_'.length).split('__');
  return parts.map((part, index) =>
    parts[index - 1]?.toLowerCase() === 'env' ? part : part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
  );
}

function parseEnvValue(name: string, value: string): unknown {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return value;
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    throw new ConfigError(`${name} looks like JSON but does not parse: ${(error as Error).message}`);
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Validates a raw configuration object; exported for tests and for the admin API. */
export function parseConfig(raw: unknown, where: { file?: string | undefined; origin?: Origin } = {}): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error, where));
  const config = result.data;
  return {
    ...config,
    issuer: config.issuer ?? `http://localhost:${config.port || 3000}`,
    demo: config.demo ?? where.file === undefined,
  };
}

function describeIssues(error: z.ZodError, where: { file?: string | undefined; origin?: Origin }): string {
  const lines = error.issues.flatMap((issue) => {
    const path = issue.path
      .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
      .join('')
      .slice(1);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${path ? `${path}.` : ''}${key}: unknown key${fromEnv(where.origin, path, key)}`);
    }
    return [`${path || '(root)'}: ${issue.message}${fromEnv(where.origin, path)}`];
  });
  const source = where.file ? ` in ${where.file}` : '';
  return `Invalid configuration${source}:\n${lines.map((line) => `  - ${line}`).join('\n')}`;
}

function fromEnv(origin: Origin | undefined, path: string, key?: string): string {
  const full = key ? (path ? `${path}.${key}` : key) : path.replace(/\[\d+\].*$/, '');
  const name = origin?.get(full) ?? origin?.get(full.split('.')[0] ?? '');
  return name ? ` (from ${name})` : '';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
