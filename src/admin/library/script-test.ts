import { z } from 'zod';
import { normaliseEmail, normalisePhone, normaliseUsername, parseIdentifier, toScriptQuery } from '../../accounts/identifier.ts';
import { BadRequest } from '../../errors.ts';
import type { ScriptName } from '../../connection/connection.ts';
import { checkProfile } from '../../connection/profile.ts';
import type { ExecutionLog } from '../../connection/execution-log.ts';
import { scriptContext, type ScriptRunner } from '../../connection/scripts.ts';
import type { ConnectionSettings } from '../../connection/settings.ts';
import type { FailureKind, LogLine } from '../../sandbox/index.ts';
import { holdsSecret, MASK, maskSecrets } from '../../sandbox/secrets.ts';
import { secretValues } from './secrets.ts';
import { parseOrThrow } from './validation.ts';

const id = z.union([z.string().min(1), z.number()]);
const record = z.record(z.string(), z.unknown());

/** What the Test button sends for each script: the arguments the script receives, by name. */
export const TEST_INPUTS = {
  login: z.object({ identifier: z.string().min(1), password: z.string().min(1) }),
  getUser: z.object({
    query: z.object({ id: id.optional(), email: z.string().optional(), username: z.string().optional(), phone: z.string().optional() }),
  }),
  searchUser: z.object({ keyword: z.string() }),
  createUser: z.object({ userInfo: record }),
  updateUser: z.object({ id, updates: record }),
  deleteUser: z.object({ id }),
  listUsers: z.object({ page: z.coerce.number().int().min(1).default(1), limit: z.coerce.number().int().min(1).max(100).default(10) }),
  validatePassword: z.object({ id, password: z.string() }),
} satisfies Record<ScriptName, z.ZodType>;

export interface TestResult {
  ok: boolean;
  /** `ok`, or how the script failed (script_error, timeout, syntax, invalid_result, unavailable, …). */
  kind: 'ok' | FailureKind;
  value: unknown;
  message: string | null;
  logs: LogLine[];
  durationMs: number;
}

const profileProblem = (value: unknown) => {
  const check = checkProfile(value);
  return check.ok ? undefined : check.problem;
};

/** What Ferry accepts from each script when it runs for real; a test reports the same refusals. */
const VALIDATE: Partial<Record<ScriptName, (value: unknown) => string | undefined>> = {
  login: profileProblem,
  createUser: profileProblem,
  updateUser: profileProblem,
  getUser: (value) => (value === null || value === undefined ? undefined : profileProblem(value)),
  searchUser: (value) => (Array.isArray(value) ? value.map(profileProblem).find(Boolean) : 'The searchUser script must return an array of profiles.'),
  listUsers: (value) => {
    const result = value as { totalCount?: unknown; list?: unknown } | null;
    if (!result || typeof result !== 'object' || !Array.isArray(result.list)) return 'The listUsers script must return { totalCount, list }.';
    return result.list.map(profileProblem).find(Boolean);
  },
  validatePassword: (value) => (typeof value === 'boolean' ? undefined : 'The validatePassword script must return true or false.'),
};

/**
 * The console's Test button (GenAuth's Debug dialog): runs one script, saved or a draft, with the
 * connection's env, limits and context and the same argument normalisation as a real request. It
 * only runs the script: nothing is migrated or cached. The execution is logged like any other.
 * Neither the answer nor the log shows the passwords it was given or the connection's secrets: a
 * draft may print or return env.DB_PASSWORD, and whoever may test scripts may not read secrets.
 */
export function createScriptTester(deps: { issuer: string; settings: ConnectionSettings; runner: ScriptRunner; executions: ExecutionLog }) {
  return {
    async test(name: ScriptName, input: unknown, options: { source?: string | undefined; ip?: string | undefined } = {}): Promise<TestResult> {
      const { args, body, secrets } = argumentsFor(name, input);
      const connection = await deps.settings.current();
      const context = scriptContext(deps.issuer, { ip: options.ip, body });
      const validate = VALIDATE[name];
      const outcome = await deps.runner.run(connection, name, [...args, context], {
        ...(options.source !== undefined ? { source: options.source } : {}),
        ...(validate ? { validate } : {}),
        unlogged: true,
        unguarded: true,
      });
      const result: TestResult = outcome.ok
        ? { ok: true, kind: 'ok', value: outcome.value ?? null, message: null, logs: outcome.logs, durationMs: outcome.durationMs }
        : { ok: false, kind: outcome.kind, value: null, message: outcome.message, logs: outcome.logs, durationMs: outcome.durationMs };
      const clean = scrub(result, [...secrets, ...secretValues(connection.env)]);
      deps.executions.record(
        connection.id,
        name,
        clean.ok ? { ...clean, ok: true } : { ...clean, ok: false, kind: clean.kind as FailureKind, message: clean.message ?? '' },
      );
      return clean;
    },
  };
}

export type ScriptTester = ReturnType<typeof createScriptTester>;

/** The script's arguments (before `context`), the request body scripts see, and the passwords to keep out of the answer. */
function argumentsFor(name: ScriptName, raw: unknown): { args: unknown[]; body: Record<string, string>; secrets: string[] } {
  switch (name) {
    case 'login': {
      const input = parseOrThrow(TEST_INPUTS.login, raw);
      const identifier = parseIdentifier(input.identifier);
      if (!identifier)
        throw new BadRequest('Enter an email address, a phone number or a username.', 'invalid_identifier', [
          { path: 'identifier', message: 'not an email, phone number or username' },
        ]);
      return { args: [toScriptQuery(identifier), input.password], body: { identifier: input.identifier }, secrets: [input.password] };
    }
    case 'getUser':
      return { args: [normaliseQuery(parseOrThrow(TEST_INPUTS.getUser, raw).query)], body: {}, secrets: [] };
    case 'searchUser':
      return { args: [parseOrThrow(TEST_INPUTS.searchUser, raw).keyword], body: {}, secrets: [] };
    case 'createUser': {
      const { userInfo } = parseOrThrow(TEST_INPUTS.createUser, raw);
      return { args: [userInfo], body: {}, secrets: passwordsIn(userInfo) };
    }
    case 'updateUser': {
      const input = parseOrThrow(TEST_INPUTS.updateUser, raw);
      return { args: [String(input.id), input.updates], body: {}, secrets: passwordsIn(input.updates) };
    }
    case 'deleteUser':
      return { args: [String(parseOrThrow(TEST_INPUTS.deleteUser, raw).id)], body: {}, secrets: [] };
    case 'listUsers': {
      const input = parseOrThrow(TEST_INPUTS.listUsers, raw);
      return { args: [input.page, input.limit], body: {}, secrets: [] };
    }
    case 'validatePassword': {
      const input = parseOrThrow(TEST_INPUTS.validatePassword, raw);
      return { args: [String(input.id), input.password], body: {}, secrets: [input.password] };
    }
  }
}

/** getUser's query as Ferry builds it: identifiers normalised as at sign-in, the id as a string. */
function normaliseQuery(query: z.output<typeof TEST_INPUTS.getUser>['query']): Record<string, string> {
  const out: Record<string, string> = {};
  if (query.id !== undefined) out.id = String(query.id);
  const fields = { email: normaliseEmail, phone: normalisePhone, username: normaliseUsername } as const;
  for (const [field, normalise] of Object.entries(fields)) {
    const raw = query[field as keyof typeof fields];
    if (raw === undefined || raw === '') continue;
    const value = normalise(raw);
    if (value === undefined)
      throw new BadRequest(`query.${field} is not a valid ${field}.`, 'invalid_request', [{ path: `query.${field}`, message: `not a valid ${field}` }]);
    out[field] = value;
  }
  if (Object.keys(out).length === 0)
    throw new BadRequest('Give the query an id, email, username or phone.', 'invalid_request', [{ path: 'query', message: 'empty' }]);
  return out;
}

function passwordsIn(values: Record<string, unknown>): string[] {
  return typeof values.password === 'string' ? [values.password] : [];
}

/** Fields that never leave Ferry (product.md): tokens and anything password-like, at any depth. */
const NEVER_SHOWN = /^(password|passwordHash|password_hash|hashedPassword|salt|passwordSalt|token)$/i;

/** The answer never repeats a secret, even if the script printed or returned it, in a string, a key, a number or bytes. */
function scrub(result: TestResult, secrets: readonly string[]): TestResult {
  const clean = (text: string) => maskSecrets(text, secrets);
  const deep = (value: unknown): unknown => {
    if (typeof value === 'string') return clean(value);
    if (typeof value === 'number' || typeof value === 'bigint') return clean(String(value)) === String(value) ? value : MASK;
    if (Buffer.isBuffer(value)) return holdsSecret(value, secrets) ? MASK : value;
    if (Array.isArray(value)) return value.map(deep);
    // Plain objects only: a Date is not taken apart.
    if (value && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [clean(key), NEVER_SHOWN.test(key) && item !== null && item !== undefined ? MASK : deep(item)]),
      );
    }
    return value;
  };
  return {
    ...result,
    value: deep(result.value),
    message: result.message === null ? null : clean(result.message),
    logs: result.logs.map((line) => ({ ...line, message: clean(line.message) })),
  };
}
