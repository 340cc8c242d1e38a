import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { ConnectionConfig } from '../config/schema.ts';

export const SCRIPT_NAMES = ['login', 'getUser', 'searchUser', 'createUser', 'updateUser', 'deleteUser', 'listUsers', 'validatePassword'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export function isScriptName(name: unknown): name is ScriptName {
  return typeof name === 'string' && (SCRIPT_NAMES as readonly string[]).includes(name);
}

/** The parameters each script takes, for the default scripts and the docs. */
export const SCRIPT_PARAMS: Record<ScriptName, string> = {
  login: 'query, password, context',
  getUser: 'query, context',
  searchUser: 'keyword, context',
  createUser: 'userInfo, context',
  updateUser: 'id, updates, context',
  deleteUser: 'id, context',
  listUsers: 'page, limit, context',
  validatePassword: 'id, password, context',
};

const TITLES: Record<ScriptName, string> = {
  login: 'Login',
  getUser: 'Get User',
  searchUser: 'Search User',
  createUser: 'Create User',
  updateUser: 'Update User',
  deleteUser: 'Delete User',
  listUsers: 'List Users',
  validatePassword: 'Validate Password',
};

/** What a script that was never written does: GenAuth's default, which names the script to write. */
export function defaultScript(name: ScriptName): string {
  return `async function ${name}(${SCRIPT_PARAMS[name]}) {\n  const msg = 'Please implement the ${TITLES[name]} script for this database connection';\n  throw new Error(msg);\n}\n`;
}

/** The message the default script throws; the login page shows it as it is. */
export function notImplementedMessage(name: ScriptName): string {
  return `Please implement the ${TITLES[name]} script for this database connection`;
}

export interface Connection extends ConnectionConfig {
  id: string;
}

export interface ScriptSourceResult {
  source: string;
  /** Where it came from: the scripts folder, Ferry's database, or the built-in default. */
  origin: 'file' | 'store' | 'default';
  /** For a script from Ferry's database: the stored version that runs, and when it was saved. */
  stored?: { version: number; createdAt: Date };
}

/**
 * Scripts from a folder of `<name>.js` files. A file is read again only when its modification
 * time changes, so editing a script takes effect on the next execution without a restart.
 */
export function createFileScripts(dir: string, cwd = process.cwd()) {
  const folder = isAbsolute(dir) ? dir : resolve(cwd, dir);
  const cache = new Map<string, { mtimeMs: number; source: string }>();
  return {
    folder,
    async get(name: ScriptName): Promise<string | undefined> {
      const file = join(folder, `${name}.js`);
      let mtimeMs: number;
      try {
        mtimeMs = (await stat(file)).mtimeMs;
      } catch {
        cache.delete(name);
        return undefined;
      }
      const hit = cache.get(name);
      if (hit && hit.mtimeMs === mtimeMs) return hit.source;
      const source = await readFile(file, 'utf8');
      cache.set(name, { mtimeMs, source });
      return source;
    },
  };
}

export type FileScripts = ReturnType<typeof createFileScripts>;
