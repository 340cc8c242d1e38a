/**
 * Who may do what in the admin API and the console. Every admin key has one role; the adminToken
 * from the configuration is the bootstrap owner.
 */
export const ROLES = ['owner', 'operator', 'script-editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_TEXT: Record<Role, string> = {
  owner: 'everything, including admin keys',
  operator: 'users, their sessions, and applications (clients)',
  'script-editor': 'the connection and its scripts',
  viewer: 'read only',
};

/** Who is making a request: a named key, or the bootstrap adminToken. */
export interface Admin {
  /** The key's id, or "token" for the adminToken. */
  id: string;
  name: string;
  role: Role;
}

/** Areas of the admin API and the console (the API's tags), and who may change them. */
const CHANGES: Record<string, readonly Role[]> = {
  users: ['owner', 'operator'],
  clients: ['owner', 'operator'],
  connection: ['owner', 'script-editor'],
  scripts: ['owner', 'script-editor'],
};

/** Areas nobody but an owner may even read. */
const OWNER_ONLY = new Set(['admin-keys']);

/**
 * The roles allowed to `method` on an area: reading is for every role, changing is for the
 * area's roles (owner only where none are listed), and admin keys are the owner's alone.
 */
export function rolesFor(area: string, method: string): readonly Role[] {
  if (OWNER_ONLY.has(area)) return ['owner'];
  if (method.toLowerCase() === 'get' || method.toLowerCase() === 'head') return ROLES;
  return CHANGES[area] ?? ['owner'];
}

/** A sentence for a 403 that names the roles needed. */
export function refusal(admin: Admin, allowed: readonly Role[]): string {
  return `The ${admin.role} role may not do this; it needs ${allowed.length === 1 ? 'the role' : 'one of the roles'} ${allowed.join(', ')}.`;
}
