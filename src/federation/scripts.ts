import type { Outcome, Sandbox } from '../sandbox/index.ts';
import type { Connection, ScriptName } from './connection.ts';
import type { ExecutionLog } from './execution-log.ts';
import type { ConnectionSettings } from './settings.ts';

/** What scripts receive as their last argument (GenAuth's `context`). */
export interface ScriptContext {
  userPoolId: string;
  userPoolName: string;
  userPoolMetadata: Record<string, unknown>;
  appId: string | undefined;
  appName: string | undefined;
  appMetadata: Record<string, unknown>;
  application: string;
  request: { ip: string | undefined; geo: Record<string, unknown>; body: Record<string, string> };
}

export interface RunOptions {
  /** A draft to run instead of the saved script (the console's Test button). */
  source?: string | undefined;
  validate?: (value: unknown) => string | undefined;
  /** Keep this execution out of the execution log. */
  unlogged?: boolean;
}

/** Runs a connection's scripts in the sandbox and writes each execution to the log. */
export function createScriptRunner(deps: { sandbox: Sandbox; settings: ConnectionSettings; executions: ExecutionLog }) {
  return {
    async run<T>(connection: Connection, name: ScriptName, args: unknown[], options: RunOptions = {}): Promise<Outcome<T>> {
      const source = options.source ?? (await deps.settings.script(name)).source;
      const outcome = await deps.sandbox.run<T>({
        name,
        source,
        args,
        env: connection.env,
        limits: connection.limits,
        ...(options.validate ? { validate: options.validate } : {}),
      });
      if (!options.unlogged) deps.executions.record(connection.id, name, outcome);
      return outcome;
    },
  };
}

export type ScriptRunner = ReturnType<typeof createScriptRunner>;

/** The `context` argument for a request (the password is never part of `request.body`). */
export function scriptContext(issuer: string, request: { ip?: string | undefined; clientId?: string | undefined; clientName?: string | undefined; body?: Record<string, string> | undefined }): ScriptContext {
  const { password: _password, password_confirm: _confirm, csrf: _csrf, ...body } = request.body ?? {};
  return {
    userPoolId: 'ferry',
    userPoolName: new URL(issuer).host,
    userPoolMetadata: {},
    appId: request.clientId,
    appName: request.clientName,
    appMetadata: {},
    application: 'ferry',
    request: { ip: request.ip, geo: {}, body },
  };
}
