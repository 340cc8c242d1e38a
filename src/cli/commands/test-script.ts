import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { TestResult } from '../../admin/library/script-test.ts';
import { loadConfig } from '../../config/load.ts';
import { BadRequest } from '../../errors.ts';
import { isScriptName, SCRIPT_NAMES } from '../../connection/connection.ts';
import { openLocal } from '../local.ts';
import type { Output } from '../output.ts';
import { callAdminApi, type Target } from '../remote.ts';

export interface TestScriptOptions {
  name?: string | undefined;
  /** The script's arguments as JSON, as the admin API's test endpoint takes them. */
  json?: string | undefined;
  identifier?: string | undefined;
  password?: string | undefined;
  passwordStdin?: boolean | undefined;
  id?: string | undefined;
  keyword?: string | undefined;
  /** A draft to run instead of the configured script. */
  file?: string | undefined;
  cwd: string;
  stdin: AsyncIterable<Buffer | string>;
}

/** `ferry test-script <name> …`: the console's Test button from a terminal. Exit 0 when the script succeeded. */
export async function testScript(options: TestScriptOptions, target: Target | undefined, out: Output): Promise<number> {
  if (!isScriptName(options.name)) throw new BadRequest(`Name the script to run: ${SCRIPT_NAMES.join(', ')}.`, 'usage');
  const name = options.name;
  const input = await argumentsFrom(options);
  const source = options.file ? await readFile(resolve(options.cwd, options.file), 'utf8') : undefined;
  let result: TestResult;
  if (target) {
    result = await out.step(`Running ${name} on ${target.url}`, () =>
      callAdminApi<TestResult>(target, 'POST', `/scripts/${name}/test`, { ...input, ...(source === undefined ? {} : { source }) }),
    );
  } else {
    const local = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, options.cwd).config));
    try {
      result = await out.step(`Running ${name}${source === undefined ? '' : ` from ${options.file}`}`, () =>
        local.library.tester.test(name, input, { source }),
      );
    } finally {
      await local.close();
    }
  }
  print(name, result, out);
  return result.ok ? 0 : 1;
}

async function argumentsFrom(options: TestScriptOptions): Promise<Record<string, unknown>> {
  let input: Record<string, unknown> = {};
  if (options.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.json);
    } catch (error) {
      throw new BadRequest(`The arguments are not valid JSON: ${(error as Error).message}`, 'usage');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new BadRequest('The arguments must be a JSON object, like {"identifier": "…", "password": "…"}.', 'usage');
    input = parsed as Record<string, unknown>;
  }
  const password = options.passwordStdin ? await readAll(options.stdin) : options.password;
  for (const [key, value] of Object.entries({ identifier: options.identifier, password, id: options.id, keyword: options.keyword })) {
    if (value !== undefined) input[key] = value;
  }
  return input;
}

async function readAll(stdin: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += chunk.toString();
  return text.replace(/\r?\n$/, '');
}

function print(name: string, result: TestResult, out: Output): void {
  out.line(`${name}: ${result.ok ? 'ok' : result.kind} in ${result.durationMs} ms`);
  if (result.message) out.line(`message: ${result.message}`);
  if (result.ok) out.line(`value: ${JSON.stringify(result.value, null, 2)}`);
  if (result.logs.length === 0) {
    out.line('console: (nothing printed)');
    return;
  }
  out.line('console:');
  for (const line of result.logs) out.line(`  +${line.at} ms ${line.level.padEnd(5)} ${line.message}`);
}
