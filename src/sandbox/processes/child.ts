/**
 * A sandbox process: today's in-process sandbox (isolates, bridged drivers and their pools) run
 * for the server over IPC. Started by supervisor.ts with `--no-node-snapshot` and a heap bound;
 * it ends when the server closes it or goes away (the IPC channel disconnects).
 */
import { exitWhenIdle } from '../../exit.ts';
import { createLogger } from '../../log.ts';
import { createInProcessSandbox } from '../in-process.ts';
import type { RunRequest, Sandbox } from '../index.ts';
import type { Egress, Limits } from '../limits.ts';
import { HEARTBEAT_MS, type FromChild, type ModuleReport, type ToChild } from './protocol.ts';

if (!process.send) throw new Error('src/sandbox/processes/child.ts is started by the sandbox supervisor, with an IPC channel.');

const send = (message: FromChild) => {
  if (process.connected) process.send!(message, undefined, {}, () => {});
};

/** What precompiled-hooks.mjs recorded, and whether Node's TypeScript stripper got loaded anyway. */
function moduleReport(): ModuleReport {
  const hooks = (globalThis as Record<symbol, { served: number; missed: string[] } | undefined>)[Symbol.for('ferry.precompiled')];
  return {
    precompiled: hooks?.served ?? 0,
    strippedHere: hooks?.missed ?? [],
    stripperLoaded: (process as unknown as { moduleLoadList: string[] }).moduleLoadList.some((name) => name.includes('amaro')),
  };
}

let sandbox: Sandbox | undefined;
let ferryPort: number | undefined;
let closing = false;

const beat = setInterval(() => {
  send({
    type: 'beat',
    rssMb: Math.round(process.memoryUsage.rss() / 1048576),
    stats: sandbox?.stats() ?? {},
    connections: sandbox?.connectionStats() ?? {},
    modules: moduleReport(),
  });
}, HEARTBEAT_MS);

async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  clearInterval(beat);
  await sandbox?.close();
  if (process.connected) process.disconnect();
  // As Ferry's own shutdown does (src/exit.ts): let isolates finish tearing down.
  exitWhenIdle(0, 2000);
}

async function run(id: number, request: RunRequest, port: number | undefined): Promise<void> {
  ferryPort = port;
  const outcome = await sandbox!.run(request);
  try {
    send({ type: 'outcome', id, outcome });
  } catch (error) {
    // A value that cannot be cloned for IPC (the isolate's copies should never produce one).
    send({
      type: 'outcome',
      id,
      outcome: {
        ok: false,
        kind: 'invalid_result',
        message: `The script finished with a value that cannot be returned: ${(error as Error).message}`,
        logs: outcome.logs,
        durationMs: outcome.durationMs,
      },
    });
  }
}

process.on('message', (message: ToChild) => {
  switch (message.type) {
    case 'init':
      sandbox = createInProcessSandbox(
        {
          ...(message.options as object),
          log: createLogger({ level: message.logLevel }),
          ferryPort: () => ferryPort,
          onFatal: (text) => send({ type: 'fatal', message: text }),
        },
        // The server checked them and filled in the defaults (supervisor.ts).
        (request) => ({ limits: request.limits as Limits, egress: request.egress as Egress }),
      );
      send({ type: 'ready', modules: moduleReport() });
      break;
    case 'run':
      void run(message.id, message.request as unknown as RunRequest, message.ferryPort);
      break;
    case 'close':
      void close();
      break;
  }
});
// The server is gone (it crashed, or was killed): nothing will ask for these isolates again.
process.on('disconnect', () => void close());
// Ctrl-C in a terminal signals the whole process group: the server decides when this process
// ends (it lets scripts in flight finish during its own shutdown), so these signals are ignored.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
