import { z } from 'zod';
import type { AdminLibrary } from '../../library/index.ts';
import { ROLES } from '../../roles.ts';
import { defineRoute } from '../route.ts';

const adminKey = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().describe('Updated at most once a minute.'),
});

const newKey = z.object({
  name: z.string().trim().min(1).max(100).describe('Who holds the key (a person or a script).'),
  role: z.enum(ROLES).describe('owner: everything; operator: users, sessions, clients; script-editor: connection and scripts; viewer: read only.'),
});

/** Named admin keys; the owner's alone (roles from the admin-keys tag). */
export function adminKeyRoutes(library: AdminLibrary) {
  const keys = library.adminKeys;
  return [
    defineRoute({
      method: 'get',
      path: '/admin-keys',
      tag: 'admin-keys',
      summary: 'List admin keys: name, role, created, last used (never the key)',
      response: z.array(adminKey),
      handle: () => keys.list(),
    }),
    defineRoute({
      method: 'post',
      path: '/admin-keys',
      tag: 'admin-keys',
      summary: 'Create an admin key; the answer holds the key, shown this once (only its SHA-256 is stored)',
      body: newKey,
      status: 201,
      response: adminKey.extend({ key: z.string().describe('Send as "Authorization: Bearer <key>". Not readable afterwards.') }),
      errors: [400, 409],
      handle: ({ body }) => keys.create(body.name, body.role),
    }),
    defineRoute({
      method: 'delete',
      path: '/admin-keys/:id',
      tag: 'admin-keys',
      summary: 'Revoke an admin key (by id or name): refused from the next request on',
      params: z.object({ id: z.string().min(1).max(100) }),
      errors: [404],
      handle: ({ params }) => keys.revoke(params.id),
    }),
  ];
}
