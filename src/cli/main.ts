#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BadRequest, FerryError } from '../errors.ts';
import { exitWhenIdle } from '../exit.ts';
import { createOutput, type Output } from './output.ts';
import { remoteTarget } from './remote.ts';

const USAGE = `Usage: ferry <command> [options]

  start                               serve Ferry (what npm start runs)
  init --template <kind> [--dir hooks] [--force]
                                      copy a template's eight scripts and schema into a folder;
                                      kinds: postgres, mysql, mongodb, mssql, http
  test-script <name> [json-args]      run one script with the configured connection, like the
      [--identifier x] [--password y | --password-stdin] [--id x] [--keyword x] [--file draft.js]
                                      console's Test button; exit code 0 when it succeeded
  migration status [--json]           how far the migration has come: by sign-in, imported,
                                      swept, still only in the legacy database
  migration sweep [--page-size n] [--delay-ms n] [--restart] [--detach] [--json]
                                      import through listUsers every legacy user not yet in
                                      Ferry (with passwordHash when listUsers returns it);
                                      resumes where it stopped; \`migration sweep pause\` pauses
  migration retire [--force]          switch the legacy database off once nobody remains only
                                      there (--force: anyway, logged)
  users import FILE [--update] [--json]
                                      import users with legacy ids and password hashes from
                                      NDJSON (one user per line) or a .json file; already
                                      imported ids are skipped (--update replaces them);
                                      \`ferry import FILE\` is the same
  users block SUB | unblock SUB [--json]
                                      block a user (no sign-in, every session and token
                                      revoked), or let them in again
  users sessions SUB [--json]         a user's browser sessions: started, last used, apps
  users end-sessions SUB [UID]        end one session (by uid) or all of them
  keys rotate                         make new signing keys the active ones
  admin-keys create NAME --role ROLE [--json]
                                      a named admin key (roles: owner, operator, script-editor,
                                      viewer), printed this once; only its SHA-256 is kept
  admin-keys list [--json] | revoke ID|NAME
                                      the keys (name, role, created, last used), or revoke one

  test-script, migration, users, keys rotate and admin-keys open the configured database, or ask a running
  server's admin API with --url <http://host:port> (or FERRY_URL) and --token (or FERRY_ADMIN_TOKEN): the
  admin token or an admin key whose role allows the command.
  The configuration is read as the server reads it: FERRY_CONFIG, ./ferry.config.json, FERRY_* variables.
`;

const HELP = '`ferry help` lists the commands and their options.';

const REMOTE = { url: { type: 'string' }, token: { type: 'string' } } as const satisfies ParseArgsConfig['options'];

/** Runs one command; the promise gives the exit code. */
export async function run(argv: readonly string[], out: Output = createOutput(), env = process.env, cwd = process.cwd()): Promise<number> {
  const [command, ...rest] = argv;
  const parse = <O extends NonNullable<ParseArgsConfig['options']>>(options: O, positionals = 0) => {
    try {
      const parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true });
      if (parsed.positionals.length > positionals) throw new Error(`unexpected "${parsed.positionals[positionals]}"`);
      return parsed;
    } catch (error) {
      throw new BadRequest(`${(error as Error).message.replace(/\. To specify.*$/s, '').replace(/\.$/, '')}. ${HELP}`, 'usage');
    }
  };
  switch (command) {
    // Each command loads only what it needs: `init` should not wait for the whole server to load.
    case 'start': {
      parse({});
      const { start } = await import('../main.ts');
      await start();
      return 0;
    }
    case 'init': {
      const { values } = parse({ template: { type: 'string' }, dir: { type: 'string' }, force: { type: 'boolean' } });
      const { init } = await import('./commands/init.ts');
      return init({ ...values, cwd }, out);
    }
    case 'test-script': {
      const options = {
        ...REMOTE,
        identifier: { type: 'string' },
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        id: { type: 'string' },
        keyword: { type: 'string' },
        file: { type: 'string' },
      } as const;
      const { values, positionals } = parse(options, 2);
      const [name, json] = positionals;
      const { testScript } = await import('./commands/test-script.ts');
      return testScript({ ...values, passwordStdin: values['password-stdin'], name, json, cwd, stdin: process.stdin }, remoteTarget(values, env), out);
    }
    case 'migration': {
      const options = {
        ...REMOTE,
        json: { type: 'boolean' },
        force: { type: 'boolean' },
        restart: { type: 'boolean' },
        detach: { type: 'boolean' },
        'page-size': { type: 'string' },
        'delay-ms': { type: 'string' },
        'lease-seconds': { type: 'string' },
      } as const;
      const { values, positionals } = parse(options, 2);
      const [verb, sub] = positionals;
      const target = remoteTarget(values, env);
      if (verb === 'status' && sub === undefined) {
        const { migrationStatus } = await import('./commands/migration.ts');
        return migrationStatus({ json: values.json, cwd }, target, out);
      }
      if (verb === 'sweep' && (sub === undefined || sub === 'pause')) {
        const number = (name: 'page-size' | 'delay-ms' | 'lease-seconds') => {
          const text = values[name];
          if (text === undefined) return undefined;
          if (!/^\d+$/.test(text)) throw new BadRequest(`--${name} takes a whole number (got "${text}"). ${HELP}`, 'usage');
          return Number(text);
        };
        const { sweep } = await import('./commands/sweep.ts');
        const sizes = { pageSize: number('page-size'), delayMs: number('delay-ms'), leaseSeconds: number('lease-seconds') };
        return sweep({ ...sizes, restart: values.restart, detach: values.detach, json: values.json, pause: sub === 'pause', cwd }, target, out);
      }
      if (verb === 'retire' && sub === undefined) {
        const { retire } = await import('./commands/sweep.ts');
        return retire({ force: values.force, cwd }, target, out);
      }
      throw new BadRequest(`Use: ferry migration status | sweep [pause] | retire [--force]. ${HELP}`, 'usage');
    }
    case 'users':
    case 'import': {
      // `ferry import FILE` is short for `ferry users import FILE`.
      const { values, positionals } = parse({ ...REMOTE, update: { type: 'boolean' }, json: { type: 'boolean' } }, command === 'users' ? 3 : 1);
      const [verb, file] = command === 'users' ? positionals : ['import', positionals[0]];
      if (verb === 'block' || verb === 'unblock' || verb === 'sessions' || verb === 'end-sessions') {
        const [, sub, uid] = positionals;
        if (!sub || (uid !== undefined && verb !== 'end-sessions'))
          throw new BadRequest(`Use: ferry users ${verb} SUB${verb === 'end-sessions' ? ' [UID]' : ''}. ${HELP}`, 'usage');
        const { userCommand } = await import('./commands/users.ts');
        return userCommand({ verb, sub, uid, json: values.json, cwd }, remoteTarget(values, env), out);
      }
      if (verb !== 'import' || !file || positionals.length > 2) throw new BadRequest(`Use: ferry users import FILE. ${HELP}`, 'usage');
      const { importUsers } = await import('./commands/import.ts');
      return importUsers({ file, update: values.update, json: values.json, cwd }, remoteTarget(values, env), out);
    }
    case 'keys': {
      const { values, positionals } = parse(REMOTE, 1);
      if (positionals[0] !== 'rotate') throw new BadRequest(`Use: ferry keys rotate. ${HELP}`, 'usage');
      const { rotateKeys } = await import('./commands/keys.ts');
      return rotateKeys({ cwd }, remoteTarget(values, env), out);
    }
    case 'admin-keys': {
      const { values, positionals } = parse({ ...REMOTE, role: { type: 'string' }, json: { type: 'boolean' } }, 2);
      const [verb = '', name] = positionals;
      const { adminKeyCommand } = await import('./commands/admin-keys.ts');
      return adminKeyCommand({ verb, name, role: values.role, json: values.json, cwd }, remoteTarget(values, env), out);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out.line(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new BadRequest(`Unknown command "${command}". ${HELP}`, 'usage');
  }
}

/** Errors are sentences: a usage mistake exits with 2, anything else that went wrong with 1. */
function report(error: unknown, out: Output): number {
  if (error instanceof FerryError && (error.expose || error.code === 'invalid_configuration')) {
    out.problem(error.message);
    return error.code === 'usage' ? 2 : 1;
  }
  out.problem(`ferry: ${(error as Error).message ?? String(error)}`);
  return 1;
}

if (import.meta.main) {
  // Output piped into something that stops reading (| head) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
  const out = createOutput();
  const command = process.argv[2];
  try {
    const code = await run(process.argv.slice(2), out);
    // `start` keeps serving; every other command is done, and ends as soon as its sandbox has let
    // go of its isolates (see exit.ts), without waiting long for idle handles.
    if (command !== 'start') exitWhenIdle(code, 1000);
  } catch (error) {
    exitWhenIdle(report(error, out), 1000);
  }
}
