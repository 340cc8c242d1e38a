import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCRIPT_NAMES, type ScriptName } from '../../connection/connection.ts';

export const TEMPLATES_DIR = join(import.meta.dirname, '..', '..', '..', 'hooks', 'templates');

/** The script templates shipped in hooks/templates, by folder name, with what people call them. */
export const TEMPLATES = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mongodb: 'MongoDB',
  mssql: 'SQL Server',
  http: 'HTTP service',
} as const;
export type TemplateKind = keyof typeof TEMPLATES;
export const TEMPLATE_KINDS = Object.keys(TEMPLATES) as TemplateKind[];

export function isTemplateKind(kind: unknown): kind is TemplateKind {
  return typeof kind === 'string' && Object.hasOwn(TEMPLATES, kind);
}

/** One template script's source. */
export function readTemplate(kind: TemplateKind, name: ScriptName): Promise<string> {
  return readFile(join(TEMPLATES_DIR, kind, `${name}.js`), 'utf8');
}

/**
 * The files `ferry init` copies: the eight scripts and what describes the data they expect (the
 * schema for databases, the API description for HTTP).
 */
export function templateFiles(kind: TemplateKind): string[] {
  const extras = ['schema.sql', 'schema.js', 'api.md'].filter((file) => existsSync(join(TEMPLATES_DIR, kind, file)));
  return [...SCRIPT_NAMES.map((name) => `${name}.js`), ...extras];
}
