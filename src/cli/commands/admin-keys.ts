import type { AdminKeyInfo } from '../../admin/library/admin-keys.ts';
import { ROLES, type Role } from '../../admin/roles.ts';
import { loadConfig } from '../../config/load.ts';
import { BadRequest } from '../../errors.ts';
import { openLocal, type Local } from '../local.ts';
import type { Output } from '../output.ts';
import { callAdminApi, type Target } from '../remote.ts';

type Options = { verb: string; name?: string | undefined; role?: string | undefined; json?: boolean | undefined; cwd: string };

/** The same operation on the configured database, or through a running server's admin API (an owner's key). */
async function onKeys<T>(
  options: Options,
  target: Target | undefined,
  out: Output,
  label: string,
  local: (open: Local) => Promise<T>,
  remote: (target: Target) => Promise<T>,
) {
  if (target) return out.step(`${label} on ${target.url}`, () => remote(target));
  const open = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, options.cwd).config));
  try {
    return await out.step(label, () => local(open));
  } finally {
    await open.close();
  }
}

/** `ferry admin-keys create NAME --role ROLE | list | revoke ID|NAME`: named admins, from a shell. */
export async function adminKeyCommand(options: Options, target: Target | undefined, out: Output): Promise<number> {
  switch (options.verb) {
    case 'create': {
      const { name } = options;
      const role = options.role as Role;
      if (!name || !ROLES.includes(role)) throw new BadRequest(`Use: ferry admin-keys create NAME --role ${ROLES.join('|')}.`, 'usage');
      const created = await onKeys(
        options,
        target,
        out,
        `Creating the ${role} key of ${name}`,
        (open) => open.library.adminKeys.create(name, role),
        (remote) => callAdminApi<AdminKeyInfo & { key: string }>(remote, 'POST', '/admin-keys', { name, role }),
      );
      if (options.json) out.line(JSON.stringify(created));
      else {
        out.line(created.key);
        out.problem(`That is the key of ${created.name} (${created.role}, id ${created.id}), shown this once: Ferry keeps only its SHA-256.`);
      }
      return 0;
    }
    case 'list': {
      const keys = await onKeys(
        options,
        target,
        out,
        'Reading the admin keys',
        (open) => open.library.adminKeys.list(),
        (remote) => callAdminApi<AdminKeyInfo[]>(remote, 'GET', '/admin-keys'),
      );
      if (options.json) out.line(JSON.stringify(keys));
      else if (keys.length === 0) out.line('No admin keys (the adminToken from the configuration is the owner).');
      else for (const k of keys) out.line(`${k.id}  ${k.name}  ${k.role}  created ${k.createdAt}  last used ${k.lastUsedAt ?? 'never'}`);
      return 0;
    }
    case 'revoke': {
      const { name } = options;
      if (!name) throw new BadRequest('Use: ferry admin-keys revoke ID|NAME.', 'usage');
      await onKeys(
        options,
        target,
        out,
        `Revoking the admin key ${name}`,
        (open) => open.library.adminKeys.revoke(name),
        (remote) => callAdminApi<void>(remote, 'DELETE', `/admin-keys/${encodeURIComponent(name)}`),
      );
      out.line(`Revoked ${name}: it is refused from now on.`);
      return 0;
    }
    default:
      throw new BadRequest('Use: ferry admin-keys create NAME --role ROLE | list | revoke ID|NAME.', 'usage');
  }
}
