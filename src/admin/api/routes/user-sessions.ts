import { z } from 'zod';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';
import { subParams, user } from '../schemas.ts';

const session = z.object({
  uid: z.string().describe("The session's uid: what ends it. (Its id is the browser's cookie and is never shown.)"),
  startedAt: z.string().nullable().describe('When the user signed in in this browser.'),
  lastUsedAt: z
    .string()
    .nullable()
    .describe('The latest of: the session last written, a code or token issued under it that is still stored. A lower bound of its last use.'),
  expiresAt: z.string().nullable(),
  clients: z.array(z.string()).describe('Client ids this session has signed in to.'),
});

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A user's browser sessions, their block and their second factors: what an operator does when an account is misused or a phone lost. */
export function userSessionRoutes(library: AdminLibrary) {
  const { users } = library;
  return [
    defineRoute({
      method: 'get',
      path: '/users/:sub/sessions',
      tag: 'users',
      summary: "List a user's live browser sessions, newest first",
      params: subParams,
      response: z.object({ sessions: z.array(session) }),
      errors: [404, 503],
      async handle({ params }) {
        const sessions = await users.sessions(params.sub);
        return { sessions: sessions.map((s) => ({ ...s, startedAt: iso(s.startedAt), lastUsedAt: iso(s.lastUsedAt), expiresAt: iso(s.expiresAt) })) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:sub/sessions',
      tag: 'users',
      summary: "End all of a user's browser sessions (they sign in again; the codes and tokens issued under them are revoked, consents stay)",
      params: subParams,
      response: z.object({ ended: z.number().int() }),
      errors: [404, 503],
      handle: ({ params }) => users.endSessions(params.sub),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:sub/sessions/:uid',
      tag: 'users',
      summary: 'End one browser session of a user, by uid',
      params: subParams.extend({ uid: z.string().min(1).max(200) }),
      response: z.object({ ended: z.number().int() }),
      errors: [404, 503],
      handle: ({ params }) => users.endSessions(params.sub, params.uid),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:sub/second-factors',
      tag: 'users',
      summary:
        "Remove a user's second factors (authenticator app and passkeys) and recovery codes (a lost phone): the next sign-in asks for the password alone",
      description:
        'Every session, grant and token of the user ends too. The user can enrol a new authenticator app or register a new passkey from the account page.',
      params: subParams,
      response: z.object({ removed: z.number().int().describe('Factors removed (0 when the user had none).') }),
      errors: [404, 503],
      handle: ({ params }) => users.resetSecondFactors(params.sub),
    }),
    defineRoute({
      method: 'put',
      path: '/users/:sub/block',
      tag: 'users',
      summary: 'Block a user: no sign-in and no refresh; every session, grant and token is revoked',
      description:
        'The login page answers a blocked user with `blockedUserMessage` whatever password was typed, without checking it. In CUSTOM_USER_STORE the user is also recorded by the identifiers getUser gives now.',
      params: subParams,
      response: user,
      errors: [404, 503],
      handle: ({ params }) => users.block(params.sub),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:sub/block',
      tag: 'users',
      summary: 'Unblock a user: they can sign in again',
      params: subParams,
      response: user,
      errors: [404, 503],
      handle: ({ params }) => users.unblock(params.sub),
    }),
  ];
}
