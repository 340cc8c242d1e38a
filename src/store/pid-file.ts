import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `<dataDir>/ferry.pid`: written by a server that keeps its data in embedded PGlite, which only one
 * process may open. Other processes (the CLI) read it to stay out of a data directory in use.
 */
export function pidFilePath(dataDir: string): string {
  return join(resolve(dataDir), 'ferry.pid');
}

export function writePidFile(dataDir: string): () => void {
  const file = pidFilePath(dataDir);
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    // Only our own file: a later server may have replaced it.
    if (readPid(file) === process.pid) rmSync(file, { force: true });
  };
}

/** The pid of a live process that claims the data directory (a file left by a crash names a dead one). */
export function livePidUsing(dataDir: string): number | undefined {
  const pid = readPid(pidFilePath(dataDir));
  if (pid === undefined || pid === process.pid) return pid;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: it exists but belongs to someone else; it is alive all the same.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
