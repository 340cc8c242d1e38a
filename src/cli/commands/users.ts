import type { AdminUser } from '../../admin/library/users.ts';
import type { AccountSession } from '../../store/queries/sessions.ts';
import type { Output } from '../output.ts';
import { callAdminApi, onLocalOrRemote, type Target } from '../remote.ts';

type Verb = 'block' | 'unblock' | 'sessions' | 'end-sessions';

/**
 * `ferry users block|unblock SUB`, `ferry users sessions SUB` and `ferry users end-sessions SUB [UID]`:
 * what the console's user page does, for scripts and for an operator at a shell.
 */
export async function userCommand(
  options: { verb: Verb; sub: string; uid?: string | undefined; json?: boolean | undefined; cwd: string },
  target: Target | undefined,
  out: Output,
): Promise<number> {
  const path = `/users/${encodeURIComponent(options.sub)}`;
  switch (options.verb) {
    case 'block':
    case 'unblock': {
      const block = options.verb === 'block';
      const user = await onLocalOrRemote<AdminUser>(
        options.cwd,
        target,
        out,
        `${block ? 'Blocking' : 'Unblocking'} ${options.sub}`,
        (open) => (block ? open.library.users.block(options.sub) : open.library.users.unblock(options.sub)),
        (remote) => callAdminApi<AdminUser>(remote, block ? 'PUT' : 'DELETE', `${path}/block`),
      );
      if (options.json) out.line(JSON.stringify(user));
      else
        out.line(
          user.blockedAt
            ? `${options.sub} is blocked since ${user.blockedAt}: no sign-in, and every session and token revoked.`
            : `${options.sub} is not blocked.`,
        );
      return 0;
    }
    case 'sessions': {
      const sessions = await onLocalOrRemote<{ uid: string; startedAt: string | null; lastUsedAt: string | null; clients: string[] }[]>(
        options.cwd,
        target,
        out,
        `Reading the sessions of ${options.sub}`,
        async (open) => (await open.library.users.sessions(options.sub)).map(asText),
        async (remote) => (await callAdminApi<{ sessions: ReturnType<typeof asText>[] }>(remote, 'GET', `${path}/sessions`)).sessions,
      );
      if (options.json) out.line(JSON.stringify(sessions));
      else if (sessions.length === 0) out.line('No browser is signed in as this user.');
      else for (const s of sessions) out.line(`${s.uid}  started ${s.startedAt ?? '?'}  last used ${s.lastUsedAt ?? '?'}  apps ${s.clients.join(', ') || '-'}`);
      return 0;
    }
    case 'end-sessions': {
      const { ended } = await onLocalOrRemote<{ ended: number }>(
        options.cwd,
        target,
        out,
        options.uid ? `Ending session ${options.uid} of ${options.sub}` : `Ending every session of ${options.sub}`,
        (open) => open.library.users.endSessions(options.sub, options.uid),
        (remote) => callAdminApi<{ ended: number }>(remote, 'DELETE', `${path}/sessions${options.uid ? `/${encodeURIComponent(options.uid)}` : ''}`),
      );
      out.line(options.json ? JSON.stringify({ ended }) : `Ended ${ended} session${ended === 1 ? '' : 's'}.`);
      return 0;
    }
  }
}

const asText = (s: AccountSession) => ({
  ...s,
  startedAt: s.startedAt?.toISOString() ?? null,
  lastUsedAt: s.lastUsedAt?.toISOString() ?? null,
  expiresAt: s.expiresAt?.toISOString() ?? null,
});
