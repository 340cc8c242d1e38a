import { z } from 'zod';
import { egressSchema, limitsChangeSchema, limitsSchema } from '../../../sandbox/index.ts';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';

const mode = z.enum(['LAZY_MIGRATION', 'CUSTOM_USER_STORE']);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and underscores');

const connectionView = z.object({
  enabled: z.boolean(),
  mode,
  env: z
    .record(z.string(), z.string())
    .describe('Secrets (DB_PASSWORD, names with PASSWORD, SECRET, TOKEN or KEY) as "********"; passwords inside *_URI and *_URL values masked.'),
  form: z.enum(['uri', 'programmatic', 'none']),
  limits: limitsSchema,
  egress: egressSchema,
  showScriptErrors: z.boolean(),
  claimsCacheSeconds: z.number().int(),
  maxConcurrentScripts: z.number().int(),
  breaker: z.object({ failureThreshold: z.number().int(), openSeconds: z.number().int() }),
  scriptsDir: z.string().nullable(),
  scriptsSource: z.enum(['files', 'store']),
  sources: z
    .record(z.string(), z.enum(['file', 'saved']))
    .describe(
      'Where each setting comes from: file (ferry.config.json) or saved (saved in the console or API, which takes precedence over the file until DELETE /connection/saved).',
    ),
});

const connectionChange = z
  .strictObject({
    enabled: z.boolean().optional(),
    mode: mode.optional(),
    env: z
      .record(envName, z.string().max(4096).nullable())
      .optional()
      .describe(
        'Merge patch of the variables: a string sets, null removes, a masked value sent back unchanged keeps the stored secret. A stored password is kept only for the same server: a DB_CONNECTION_URI with a masked password and another host or port, or a new DB_HOST or DB_PORT without DB_PASSWORD, is refused (400 masked_value). Setting DB_CONNECTION_URI removes DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD and DB_DATABASE, and setting any of those removes DB_CONNECTION_URI (unless the same change sets both forms).',
      ),
    limits: limitsChangeSchema.optional().describe('Sandbox limits to change; the others are kept.'),
    egress: egressSchema
      .optional()
      .describe(
        "Where scripts may connect (every driver and axios), replaced as a whole. Always refused whatever allow says: link-local and cloud-metadata addresses, Ferry's own port and Ferry's own database.",
      ),
    showScriptErrors: z.boolean().optional(),
    claimsCacheSeconds: z.number().int().min(0).max(3600).optional(),
    maxConcurrentScripts: z.number().int().min(1).max(1024).optional(),
    breaker: z
      .object({ failureThreshold: z.number().int().min(1).max(1000).optional(), openSeconds: z.number().int().min(1).max(3600).optional() })
      .optional()
      .describe('Circuit breaker for the legacy database; the fields not given are kept.'),
  })
  .describe('The fields to change; scriptsDir is set in the configuration file only.');

/** The custom-database connection: on or off, mode, variables and limits. */
export function connectionRoutes(library: AdminLibrary) {
  return [
    defineRoute({
      method: 'get',
      path: '/connection',
      tag: 'connection',
      summary: 'The connection, with secrets masked',
      response: connectionView,
      handle: () => library.connection.view(),
    }),
    defineRoute({
      method: 'patch',
      path: '/connection',
      tag: 'connection',
      summary: 'Change the connection (every instance follows within two seconds)',
      body: connectionChange,
      response: connectionView,
      errors: [400],
      handle: ({ body }) => library.connection.update(body),
    }),
    defineRoute({
      method: 'delete',
      path: '/connection/saved',
      tag: 'connection',
      summary: 'Forget the settings saved in the console or API: the configuration file counts again (every instance within two seconds)',
      response: connectionView,
      handle: () => library.connection.followFile(),
    }),
  ];
}
