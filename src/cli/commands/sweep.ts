import type { Retirement } from '../../connection/retire.ts';
import type { SweepOptions, SweepStatus } from '../../connection/sweep.ts';
import { loadConfig } from '../../config/load.ts';
import { openLocal } from '../local.ts';
import type { Output } from '../output.ts';
import { callAdminApi, type Target } from '../remote.ts';

const SHOWN_FAILURES = 20;

function progressLine(status: SweepStatus): string {
  const of = status.total === null ? '' : ` of ${status.total.toLocaleString('en')}`;
  const waiting = status.lastError && status.state === 'running' ? `  (retrying: ${status.lastError})` : '';
  return `${status.state}: page ${status.nextPage}, ${status.seen.toLocaleString('en')}${of} listed, ${status.created} created, ${status.skipped} already in Ferry, ${status.failed} failed${waiting}`;
}

/** Prints a line on stderr when the progress changed (the sweep's own pace: a page at a time). */
function reporter(stderr: NodeJS.WritableStream = process.stderr) {
  let last = '';
  return (status: SweepStatus) => {
    const line = progressLine(status);
    if (line !== last) stderr.write(`${line}\n`);
    last = line;
  };
}

function summary(status: SweepStatus, out: Output): number {
  out.line(`Sweep ${status.state}: ${status.created} created, ${status.skipped} already in Ferry, ${status.failed} failed, ${status.seen} listed.`);
  for (const failure of status.failures.slice(0, SHOWN_FAILURES))
    out.line(`  page ${failure.page}${failure.id === undefined ? '' : ` id ${failure.id}`}: ${failure.error}`);
  if (status.lastError) out.line(`Last problem: ${status.lastError}`);
  if (status.state === 'running' && status.runningOn) out.line(`Running on ${status.runningOn}; \`ferry migration status\` follows it.`);
  return status.state === 'done' || status.state === 'running' ? 0 : 1;
}

/**
 * `ferry migration sweep`: imports, through listUsers, every legacy user not yet in Ferry. On the
 * configured database it runs in this process until done (Ctrl-C leaves it to be resumed); with
 * --url the server runs it and this follows its progress (--detach: starts it and returns).
 */
export async function sweep(
  options: SweepOptions & { pause?: boolean | undefined; detach?: boolean | undefined; json?: boolean | undefined; cwd: string },
  target: Target | undefined,
  out: Output,
): Promise<number> {
  const start: SweepOptions = { pageSize: options.pageSize, delayMs: options.delayMs, leaseSeconds: options.leaseSeconds, restart: options.restart };
  const report = reporter();
  let status: SweepStatus;
  if (target) {
    if (options.pause) status = await callAdminApi<SweepStatus>(target, 'POST', '/migration/sweep/pause');
    else {
      status = await callAdminApi<SweepStatus>(target, 'POST', '/migration/sweep', JSON.parse(JSON.stringify(start)));
      report(status);
      while (!options.detach && status.state === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        status = await callAdminApi<SweepStatus>(target, 'GET', '/migration/sweep');
        report(status);
      }
    }
  } else {
    const local = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, options.cwd).config));
    try {
      status = options.pause ? await local.library.sweep.pause() : await local.library.sweep.run(start, report);
    } finally {
      await local.close();
    }
  }
  if (options.json) {
    out.line(JSON.stringify(status, null, 2));
    return status.state === 'failed' ? 1 : 0;
  }
  if (!options.pause) return summary(status, out);
  out.line(`Sweep ${status.state} at page ${status.nextPage}.`);
  return 0;
}

/** `ferry migration retire [--force]`: switches the connection off once no user is left only in the legacy database. */
export async function retire(options: { force?: boolean | undefined; cwd: string }, target: Target | undefined, out: Output): Promise<number> {
  let record: Retirement;
  if (target) record = await callAdminApi<Retirement>(target, 'POST', '/migration/retire', { force: options.force === true });
  else {
    const local = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, options.cwd).config));
    try {
      record = await local.library.retirement.retire({ force: options.force, by: 'cli' });
    } finally {
      await local.close();
    }
  }
  out.line(`The legacy database is retired (${record.at}): the connection is off, and every Ferry account signs in without it.`);
  if (record.forced && record.remaining !== 0)
    out.line(`${record.remaining ?? 'An unknown number of'} legacy users were left behind; they cannot sign in until they are imported.`);
  return 0;
}
