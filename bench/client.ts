/**
 * A load generator in its own process, so that the server's event loop is not shared with it.
 * Reads a job (JSON) from argv, prints one JSON line: the Measurement, with the HTTP requests it
 * sent and the CPU it used during the measured run (warm-up excluded). Started with an IPC channel
 * (bench/run.ts), it says `ready` after the warm-up and waits for `go`: the parent reads the
 * server's counters in between, while nothing is in flight.
 */
import { signInFlow, token } from './lib/flow.ts';
import { requestsSent } from './lib/http.ts';
import { measure } from './lib/measure.ts';
import type { Job } from './lib/servers.ts';

const job = JSON.parse(process.argv[2]!) as Job;
const user = (n: number) => job.identifier.replace('{n}', String(job.firstUser + (job.unique ? n : n % job.users)));

let requestsAtStart = 0;
let cpuAtStart = process.cpuUsage();
async function beforeRun(): Promise<void> {
  if (process.send) {
    const go = new Promise((resolve) => process.once('message', resolve));
    process.send('ready');
    await go;
  }
  requestsAtStart = requestsSent();
  cpuAtStart = process.cpuUsage();
}

let task: (i: number, loop: number) => Promise<unknown>;
if (job.kind === 'login') {
  task = (i) => signInFlow(job.client, user(i), job.password);
} else {
  // Each loop keeps its own chain of refresh tokens: every grant rotates the token it used.
  const chains = await Promise.all(Array.from({ length: job.concurrency }, (_, i) => signInFlow(job.client, user(i), job.password)));
  task = async (_i, loop) => {
    chains[loop] = await token(job.client, { grant_type: 'refresh_token', refresh_token: chains[loop]!.refresh_token! });
  };
}
const result = await measure(task, { ...job, beforeRun });
const cpu = process.cpuUsage(cpuAtStart);
process.stdout.write(`${JSON.stringify({ ...result, requests: requestsSent() - requestsAtStart, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
process.disconnect?.();
