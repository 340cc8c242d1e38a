import { z } from 'zod';
import { SCRIPT_NAMES } from '../../../connection/connection.ts';
import type { AdminLibrary } from '../../library/index.ts';
import { TEST_INPUTS } from '../../library/script-test.ts';
import { jsonSchema } from '../openapi.ts';
import { defineRoute } from '../route.ts';
import { logLine, outcomeKind, scriptName, scriptParams } from '../schemas.ts';

const MAX_SOURCE = 1024 * 1024;
const origin = z.enum(['file', 'store', 'default']);
const summary = z.object({
  name: scriptName,
  origin: origin.describe('file: the scripts folder; store: saved in Ferry; default: never written (throws the default error).'),
  version: z.number().int().nullable(),
  updatedAt: z.string().nullable(),
  params: z.string(),
});
const detail = summary.extend({ source: z.string(), readOnly: z.boolean(), scriptsDir: z.string().nullable() });
const version = z.object({ version: z.number().int(), note: z.string().nullable(), createdAt: z.string() });

/** The arguments depend on the script, so the body is checked against the named script's shape by the tester. */
const testBody = z.looseObject({ source: z.string().max(MAX_SOURCE).optional().describe('A draft to run instead of the saved script.') }).meta({
  description:
    "The script's arguments: login { identifier, password }, getUser { query }, searchUser { keyword }, createUser { userInfo }, updateUser { id, updates }, deleteUser { id }, listUsers { page, limit }, validatePassword { id, password }.",
  anyOf: SCRIPT_NAMES.map((name) => ({ title: name, ...jsonSchema(TEST_INPUTS[name], 'input') })),
});
const testResult = z.object({
  ok: z.boolean(),
  kind: outcomeKind,
  value: z.unknown().describe('What the script finished with (when ok).'),
  message: z.string().nullable().describe("Why it failed (the script's own message for script_error)."),
  logs: z.array(logLine),
  durationMs: z.number(),
});

/** The eight scripts: read, save as a new version, history, rollback, and the Test button. */
export function scriptRoutes(library: AdminLibrary) {
  const { scripts } = library;
  return [
    defineRoute({
      method: 'get',
      path: '/scripts',
      tag: 'scripts',
      summary: 'The eight scripts: where each comes from and its current version',
      response: z.object({ items: z.array(summary) }),
      handle: async () => ({ items: await scripts.list() }),
    }),
    defineRoute({
      method: 'get',
      path: '/scripts/:name',
      tag: 'scripts',
      summary: "A script's source as it runs now",
      params: scriptParams,
      response: detail,
      errors: [400],
      handle: ({ params }) => scripts.get(params.name),
    }),
    defineRoute({
      method: 'put',
      path: '/scripts/:name',
      tag: 'scripts',
      summary: 'Save a new version of a script (409 when a scripts folder is configured)',
      params: scriptParams,
      body: z.strictObject({ source: z.string().min(1).max(MAX_SOURCE), note: z.string().max(500).optional() }),
      response: detail,
      errors: [400, 409],
      handle: ({ params, body }) => scripts.save(params.name, body.source, body.note ?? null),
    }),
    defineRoute({
      method: 'get',
      path: '/scripts/:name/versions',
      tag: 'scripts',
      summary: "A script's stored versions, newest first",
      params: scriptParams,
      response: z.object({ items: z.array(version) }),
      errors: [400],
      handle: async ({ params }) => ({ items: await scripts.versions(params.name) }),
    }),
    defineRoute({
      method: 'post',
      path: '/scripts/:name/rollback',
      tag: 'scripts',
      summary: "Save an old version's source as the newest version",
      params: scriptParams,
      body: z.strictObject({ version: z.number().int().positive() }),
      response: detail,
      errors: [400, 404, 409],
      handle: ({ params, body }) => scripts.rollback(params.name, body.version),
    }),
    defineRoute({
      method: 'post',
      path: '/scripts/:name/test',
      tag: 'scripts',
      summary: 'Run a script (saved, or a draft) as a real request would, without changing any account',
      params: scriptParams,
      body: testBody,
      response: testResult,
      errors: [400],
      handle: ({ params, body, ctx }) => {
        const { source, ...input } = body;
        return library.tester.test(params.name, input, { source, ip: ctx.ip });
      },
    }),
  ];
}
