import { z } from 'zod';
import { SCRIPT_NAMES } from '../../connection/connection.ts';
import { FAILURE_KINDS } from '../../sandbox/outcome.ts';

/** Shapes shared by several admin API routes (requests and answers). */

export const errorBody = z.object({
  error: z.string().describe('A stable machine-readable code, e.g. invalid_request, unauthorized, not_found.'),
  message: z.string().describe('A sentence for people.'),
  details: z.unknown().optional().describe('For invalid_request: the problems, each with path and message.'),
});

export const scriptName = z.enum(SCRIPT_NAMES);
export const scriptParams = z.object({ name: scriptName });
export const subParams = z.object({ sub: z.string().min(1).max(300) });

const text = z.string().max(300);
const optionalText = text.optional();

export const user = z.object({
  sub: z.string().describe('The subject relying parties see.'),
  email: optionalText,
  phone: optionalText,
  username: optionalText,
  name: optionalText,
  source: z.enum(['local', 'migrated', 'legacy']).describe("Ferry's own account (registered or migrated), or the legacy database (CUSTOM_USER_STORE)."),
  legacyId: optionalText,
  migratedAt: z.string().optional(),
  createdAt: z.string().optional(),
  profile: z.record(z.string(), z.unknown()).describe('The profile, without password material or tokens.'),
  signInCount: z.number().int().describe('Sign-ins through the hosted login page (a registration counts as one), since Ferry began counting.'),
  lastSignInAt: z.string().optional().describe('When the user last signed in; absent if never.'),
  blockedAt: z.string().optional().describe('Since when an operator has blocked the user; absent if not blocked.'),
});

export const userPage = z.object({
  total: z
    .number()
    .int()
    .describe("All users, or with q all matches, not only this page (in CUSTOM_USER_STORE: listUsers' totalCount, or the length of searchUser's array)."),
  page: z.number().int(),
  limit: z.number().int(),
  users: z.array(user),
});

export const newUser = z.strictObject({
  email: optionalText,
  phone: optionalText,
  username: optionalText,
  name: optionalText,
  password: z.string().min(1).max(1024),
});

export const userChanges = z
  .strictObject({
    email: optionalText,
    phone: optionalText,
    username: optionalText,
    name: optionalText,
    nickname: optionalText,
    photo: z.string().max(4096).optional(),
    givenName: optionalText,
    familyName: optionalText,
    middleName: optionalText,
    gender: optionalText,
    birthdate: optionalText,
    website: optionalText,
    locale: optionalText,
    zoneinfo: optionalText,
    company: optionalText,
  })
  .describe('Profile fields to change. Passwords change with PUT /users/{sub}/password.');

export const passwordChange = z.strictObject({ password: z.string().min(1).max(1024) });

export const logLine = z.object({ level: z.string(), message: z.string(), at: z.number() });

export const outcomeKind = z.enum(['ok', ...FAILURE_KINDS]);
