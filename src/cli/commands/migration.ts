import type { MigrationStatus } from '../../admin/library/migration.ts';
import { loadConfig } from '../../config/load.ts';
import { openLocal } from '../local.ts';
import type { Output } from '../output.ts';
import { callAdminApi, type Target } from '../remote.ts';

const BAR = 30;

/** `ferry migration status`: how far the lazy migration has come. */
export async function migrationStatus(options: { json?: boolean | undefined; cwd: string }, target: Target | undefined, out: Output): Promise<number> {
  let status: MigrationStatus;
  if (target) {
    status = await out.step(`Asking ${target.url}`, () => callAdminApi<MigrationStatus>(target, 'GET', '/migration'));
  } else {
    const local = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, options.cwd).config));
    try {
      status = await out.step('Counting', () => local.library.migration.status());
    } finally {
      await local.close();
    }
  }
  if (options.json) {
    out.line(JSON.stringify(status, null, 2));
    return 0;
  }
  const total = status.legacyTotal === null ? 'an unknown number of' : String(status.legacyTotal);
  out.line(`Migrated:   ${status.migrated} of ${total} legacy users${status.progress === null ? '' : ` (${status.progress} %)`}`);
  if (status.progress !== null) {
    const filled = Math.round((status.progress / 100) * BAR);
    out.line(`            [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`);
  } else {
    out.line(`            ${status.legacyError ?? 'The total comes from the listUsers script (enable the connection and write it).'}`);
  }
  out.line(`  by sign-in ${status.bySignIn}, imported ${status.imported}, swept ${status.swept}`);
  out.line(`Remaining:  ${status.remaining === null ? 'unknown' : status.remaining} only in the legacy database`);
  out.line(`Registered: ${status.local} ${status.local === 1 ? 'account' : 'accounts'} created in Ferry itself`);
  const last30 = status.perDay.reduce((sum, day) => sum + day.count, 0);
  const today = status.perDay[status.perDay.length - 1];
  out.line(`Last 30 days: ${last30} migrated, ${today?.count ?? 0} of them today`);
  const failures = Object.entries(status.failures);
  out.line(`Refused:    ${failures.length ? failures.map(([kind, count]) => `${count} ${kind}`).join(', ') : 'none'}`);
  const { sweep } = status;
  if (sweep.state !== 'idle')
    out.line(
      `Sweep:      ${sweep.state}, page ${sweep.nextPage}, ${sweep.created} created, ${sweep.skipped} already in Ferry, ${sweep.failed} failed${sweep.lastError ? ` (${sweep.lastError})` : ''}`,
    );
  if (status.retired)
    out.line(`Retired:    ${status.retired.at}${status.retired.forced ? `, forced with ${status.retired.remaining ?? 'unknown'} remaining` : ''}`);
  else if (status.remaining === 0) out.line('Every legacy user is in Ferry: `ferry migration retire` switches the legacy database off.');
  return 0;
}
