/**
 * A load generator in its own process, so that the server's event loop is not shared with it.
 * Reads a job (JSON) from argv, prints one JSON Measurement line.
 */
import { measure } from './lib/measure.ts';
import { signInFlow, token, type Client } from './lib/flow.ts';

interface Job {
  kind: 'login' | 'refresh';
  client: Client;
  /** identifier = pattern with {n} replaced by the user number; users are taken in order, each once for 'login' with unique. */
  identifier: string;
  password: string;
  firstUser: number;
  users: number;
  unique: boolean;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
}

const job = JSON.parse(process.argv[2]!) as Job;
const user = (n: number) => job.identifier.replace('{n}', String(job.firstUser + (job.unique ? n : n % job.users)));

if (job.kind === 'login') {
  const result = await measure((i) => signInFlow(job.client, user(i), job.password), job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  // Each loop keeps its own chain of refresh tokens: every grant rotates the token it used.
  const chains = await Promise.all(Array.from({ length: job.concurrency }, (_, i) => signInFlow(job.client, user(i), job.password)));
  const result = await measure(async (_i, loop) => {
    chains[loop] = await token(job.client, { grant_type: 'refresh_token', refresh_token: chains[loop]!.refresh_token! });
  }, job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
