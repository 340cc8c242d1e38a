import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFerry, type Ferry } from './app.ts';
import type { Config } from './config/schema.ts';
import type { Logger } from './log.ts';
import { checkClients } from './oidc/check-clients.ts';
import { livePidUsing, writePidFile } from './store/pid-file.ts';

export interface RunningServer {
  ferry: Ferry;
  server: Server;
  /** Where this process answers, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Stops accepting connections, lets requests in flight finish (up to `graceMs`), closes the database. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts Ferry's HTTP server on the configured host and port. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  if (!config.databaseUrl) {
    // Two processes on one embedded database would corrupt it.
    const other = livePidUsing(config.dataDir);
    if (other !== undefined && other !== process.pid) {
      throw new Error(
        `the data directory ${config.dataDir} is in use by another Ferry (pid ${other}); one embedded database serves one process — use PostgreSQL (databaseUrl) for several`,
      );
    }
  }
  const ferry = await createFerry(config, log);
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: 5_000 }, ferry.handle);
  try {
    await checkClients(ferry.provider(), config.clients);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    await ferry.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = ['0.0.0.0', '::', '::0'].includes(address.address) ? '127.0.0.1' : address.address.includes(':') ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  ferry.setInternalUrl(url);
  // Embedded PGlite allows one process: the CLI reads this file to stay out (see src/store/pid-file.ts).
  const removePidFile = config.databaseUrl ? undefined : writePidFile(config.dataDir);

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000) =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await ferry.close();
      removePidFile?.();
    })());

  return { ferry, server, url, stop };
}
