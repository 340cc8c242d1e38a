import type { AdminKeyInfo } from '../../admin/library/admin-keys.ts';
import { ROLES, type Role } from '../../admin/roles.ts';
import { BadRequest } from '../../errors.ts';
import type { Output } from '../output.ts';
import { callAdminApi, onLocalOrRemote, type Target } from '../remote.ts';

type Options = { verb: string; name?: string | undefined; role?: string | undefined; json?: boolean | undefined; cwd: string };

/** `ferry admin-keys create NAME --role ROLE | list | revoke ID|NAME`: named admins, from a shell. */
export async function adminKeyCommand(options: Options, target: Target | undefined, out: Output): Promise<number> {
  switch (options.verb) {
    case 'create': {
      const { name } = options;
      const role = options.role as Role;
      if (!name || !ROLES.includes(role)) throw new BadRequest(`Use: ferry admin-keys create NAME --role ${ROLES.join('|')}.`, 'usage');
      const created = await onLocalOrRemote(
        options.cwd,
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
      const keys = await onLocalOrRemote(
        options.cwd,
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
      await onLocalOrRemote(
        options.cwd,
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
