import type { Rotation } from '../../admin/library/keys.ts';
import { loadConfig } from '../../config/load.ts';
import { openLocal } from '../local.ts';
import type { Output } from '../output.ts';
import { callAdminApi, type Target } from '../remote.ts';

/** `ferry keys rotate`: new signing keys; the old ones stay published until their tokens expire. */
export async function rotateKeys(options: { cwd: string }, target: Target | undefined, out: Output): Promise<number> {
  let rotation: Rotation;
  if (target) {
    rotation = await out.step(`Rotating the signing keys of ${target.url}`, () => callAdminApi<Rotation>(target, 'POST', '/keys/rotate'));
  } else {
    const local = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, options.cwd).config));
    try {
      rotation = await out.step('Generating new signing keys', () => local.library.keys.rotate());
    } finally {
      await local.close();
    }
    out.problem('Servers on this database pick the new keys up at their next key check (every 30 seconds by default).');
  }
  out.line(`New signing keys: ${rotation.kids.join(', ')}`);
  out.line(`Retired: ${rotation.retired} (still published until the tokens they signed have expired); deleted: ${rotation.deleted}`);
  return 0;
}
