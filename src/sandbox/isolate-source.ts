import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ISOLATE_DIR = join(import.meta.dirname, 'isolate');
const read = (file: string) => readFileSync(join(ISOLATE_DIR, file), 'utf8');

/**
 * The runtime, one concern per file, in the order they are joined. Order matters only for the
 * top-level statements a file runs (intrinsics are captured before anything else reads them);
 * functions are hoisted across the whole closure.
 */
export const RUNTIME_FILES = [
  'runtime/intrinsics.js',
  'runtime/json.js',
  'runtime/bridge.js',
  'runtime/boundary.js',
  'runtime/callbacks.js',
  'runtime/console.js',
  'runtime/timers.js',
  'runtime/bytes.js',
  'runtime/buffer.js',
  'runtime/url.js',
  'runtime/object-id.js',
  'runtime/require.js',
  'runtime/entry.js',
] as const;

/**
 * The modules scripts may require, in the order the "Cannot find module" error lists them: the
 * file that defines the module's builder (none for lodash, built from its package below, or for a
 * second name of a file already listed) and the expression that builds it inside the closure.
 */
export const MODULES: readonly { name: string; file?: string; build: string }[] = [
  { name: 'bcrypt', file: 'bcrypt.js', build: 'bcryptModule(ferry)' },
  { name: 'crypto', file: 'crypto.js', build: 'cryptoModule(ferry)' },
  { name: 'util', file: 'util.js', build: 'utilModule()' },
  { name: 'axios', file: 'axios.js', build: 'axiosModule(ferry)' },
  { name: 'lodash', build: 'lodashModule()' },
  { name: 'pg', file: 'pg.js', build: 'pgModule(ferry)' },
  { name: 'mysql2', file: 'mysql2.js', build: 'mysql2Module(ferry, false)' },
  { name: 'mysql2/promise', build: 'mysql2Module(ferry, true)' },
  { name: 'mongodb', file: 'mongodb.js', build: 'mongodbModule(ferry)' },
  { name: 'mssql', file: 'mssql.js', build: 'mssqlModule(ferry)' },
];

export const ALLOWED_MODULES = MODULES.map((module) => module.name);

let cached: string | undefined;

/**
 * The runtime every fresh context runs before the customer's script: one strict-mode closure
 * holding the bridge, the globals and the module shims (see isolate/README.md). lodash is the
 * real package, evaluated inside the isolate when a script first requires it.
 */
export function isolateRuntimeSource(): string {
  if (cached) return cached;
  const lodash = readFileSync(createRequire(import.meta.url).resolve('lodash/lodash.min.js'), 'utf8');
  const builders = MODULES.map((module) => `  ${JSON.stringify(module.name)}: () => ${module.build},`).join('\n');
  const moduleFiles = MODULES.flatMap((module) => (module.file ? [module.file] : []));
  cached = [
    // The script's value is this function; the host calls it with its dispatcher and gets `setup`.
    '(function ferryRuntime(host) {',
    "'use strict';",
    ...RUNTIME_FILES.map(read),
    ...moduleFiles.map(read),
    'function lodashModule() {',
    '  const module = { exports: {} };',
    '  const exports = module.exports;',
    `  (function () {\n${lodash}\n}).call(undefined);`,
    '  return module.exports;',
    '}',
    `const MODULES = { __proto__: null,\n${builders}\n};`,
    'return setup;',
    '})',
  ].join('\n');
  return cached;
}
