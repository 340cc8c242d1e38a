import { loadConfig } from '../config/load.ts';
import { BadRequest, FerryError } from '../errors.ts';
import { openLocal, type Local } from './local.ts';
import type { Output } from './output.ts';

export interface Target {
  url: string;
  token: string;
}

/** `--url`/FERRY_URL and `--token`/FERRY_ADMIN_TOKEN: a running server's admin API, if given. */
export function remoteTarget(flags: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv): Target | undefined {
  const url = flags.url ?? env.FERRY_URL;
  if (!url) return undefined;
  const token = flags.token ?? env.FERRY_ADMIN_TOKEN;
  if (!token) throw new BadRequest(`To use the server at ${url}, give its admin token with --token or FERRY_ADMIN_TOKEN.`, 'usage');
  try {
    new URL(url);
  } catch {
    throw new BadRequest(`--url must be the server's address, like http://localhost:3000 (got "${url}").`, 'usage');
  }
  return { url: url.replace(/\/+$/, ''), token };
}

/** One admin API call; an error answer becomes a FerryError with the server's message. */
export async function callAdminApi<T>(target: Target, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    throw new FerryError(
      `Could not reach Ferry at ${target.url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
      { status: 503, code: 'unreachable', expose: true },
    );
  }
  const text = await response.text();
  const answer = (() => {
    try {
      return JSON.parse(text) as { error?: string; message?: string };
    } catch {
      return undefined;
    }
  })();
  if (!response.ok) {
    const why = answer?.message ?? `HTTP ${response.status}`;
    throw new FerryError(`Ferry at ${target.url} answered ${response.status}: ${why}`, {
      status: response.status,
      code: answer?.error ?? 'http_error',
      expose: true,
    });
  }
  return answer as T;
}

/** The same operation through a running server's admin API (`target`), or on the configured database opened for it and closed after. */
export async function onLocalOrRemote<T>(
  cwd: string,
  target: Target | undefined,
  out: Output,
  label: string,
  local: (open: Local) => Promise<T>,
  remote: (target: Target) => Promise<T>,
): Promise<T> {
  if (target) return out.step(`${label} on ${target.url}`, () => remote(target));
  const open = await out.step('Opening the configured database', async () => openLocal(loadConfig(process.env, cwd).config));
  try {
    return await out.step(label, () => local(open));
  } finally {
    await open.close();
  }
}
