import { z } from 'zod';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';
import { newUser, passwordChange, subParams, user, userChanges, userPage } from '../schemas.ts';

const listQuery = z.object({
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'Search keyword: substring of identifiers and names (searchUser in CUSTOM_USER_STORE). page and limit then apply to the matches, and total counts them all.',
    ),
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** Users, wherever the mode keeps them: Ferry's accounts, or the legacy database through its scripts. */
export function userRoutes(library: AdminLibrary) {
  const { users } = library;
  return [
    defineRoute({
      method: 'get',
      path: '/users',
      tag: 'users',
      summary: 'List users a page at a time, or search them with q (also a page at a time)',
      query: listQuery,
      response: userPage,
      errors: [400, 503],
      handle: ({ query }) => (query.q ? users.search(query.q, query.page, query.limit) : users.list(query.page, query.limit)),
    }),
    defineRoute({
      method: 'get',
      path: '/users/:sub',
      tag: 'users',
      summary: 'Get one user by subject',
      params: subParams,
      response: user,
      errors: [404, 503],
      handle: ({ params }) => users.get(params.sub),
    }),
    defineRoute({
      method: 'post',
      path: '/users',
      tag: 'users',
      summary: 'Create a user (createUser script in CUSTOM_USER_STORE)',
      body: newUser,
      status: 201,
      response: user,
      errors: [400, 409, 503],
      async handle({ body, ctx }) {
        const created = await users.create(body);
        ctx.set('location', `/api/v1/users/${encodeURIComponent(created.sub)}`);
        return created;
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/users/:sub',
      tag: 'users',
      summary: "Change a user's profile fields",
      params: subParams,
      body: userChanges,
      response: user,
      errors: [400, 404, 409, 503],
      handle: ({ params, body }) => users.update(params.sub, body),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:sub',
      tag: 'users',
      summary: 'Delete a user',
      params: subParams,
      errors: [404, 503],
      handle: ({ params }) => users.delete(params.sub),
    }),
    defineRoute({
      method: 'put',
      path: '/users/:sub/password',
      tag: 'users',
      summary: "Set a user's password",
      params: subParams,
      body: passwordChange,
      errors: [400, 404, 503],
      handle: ({ params, body }) => users.setPassword(params.sub, body.password),
    }),
  ];
}
