import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ISOLATE_DIR = join(import.meta.dirname, 'isolate');
const read = (file: string) => readFileSync(join(ISOLATE_DIR, file), 'utf8');

/** Module name → the expression that builds it inside the runtime's closure. */
const MODULES: Record<string, string> = {
  bcrypt: 'bcryptModule(ferry)',
  crypto: 'cryptoModule(ferry)',
  util: 'utilModule()',
  axios: 'axiosModule(ferry)',
  lodash: 'lodashModule()',
  pg: 'pgModule(ferry)',
  mysql2: 'mysql2Module(ferry, false)',
  'mysql2/promise': 'mysql2Module(ferry, true)',
  mongodb: 'mongodbModule(ferry)',
  mssql: 'mssqlModule(ferry)',
};

export const ALLOWED_MODULES = Object.keys(MODULES);

let cached: string | undefined;

/**
 * The runtime every fresh context runs before the customer's script: one strict-mode closure
 * holding the bridge, the globals and the module shims (see isolate/README.md). lodash is the
 * real package, evaluated inside the isolate when a script first requires it.
 */
export function isolateRuntimeSource(): string {
  if (cached) return cached;
  const lodash = readFileSync(createRequire(import.meta.url).resolve('lodash/lodash.min.js'), 'utf8');
  const modules = Object.entries(MODULES)
    .map(([name, build]) => `  ${JSON.stringify(name)}: () => ${build},`)
    .join('\n');
  cached = [
    // The script's value is this function; the host calls it with its dispatcher and gets `setup`.
    '(function ferryRuntime(host) {',
    "'use strict';",
    read('runtime.js'),
    read('boundary.js'),
    read('pg.js'),
    read('mysql2.js'),
    read('mongodb.js'),
    read('mssql.js'),
    read('axios.js'),
    read('bcrypt.js'),
    read('crypto.js'),
    read('util.js'),
    'function lodashModule() {',
    '  const module = { exports: {} };',
    '  const exports = module.exports;',
    `  (function () {\n${lodash}\n}).call(undefined);`,
    '  return module.exports;',
    '}',
    `const MODULES = { __proto__: null,\n${modules}\n};`,
    'return setup;',
    '})',
  ].join('\n');
  return cached;
}
