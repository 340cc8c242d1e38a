/**
 * What the server and a sandbox process say to each other over the IPC channel (Node's
 * `serialization: 'advanced'`, so values are structured clones: Dates, BigInts and byte arrays
 * cross as they are). Only data crosses: functions of SandboxOptions and RunRequest stay in the
 * server (see supervisor.ts).
 */
import type { Outcome } from '../outcome.ts';

/** Server → sandbox process. */
export type ToChild =
  /** Sent once, first: the plain-data SandboxOptions and the log level. */
  | { type: 'init'; options: Record<string, unknown>; logLevel: string }
  /** One execution: a RunRequest without its functions, and Ferry's port as it is now. */
  | { type: 'run'; id: number; request: Record<string, unknown>; ferryPort: number | undefined }
  /** Close the sandbox (isolates, pooled legacy connections) and exit. */
  | { type: 'close' };

/** Sandbox process → server. */
export type FromChild =
  | { type: 'ready'; modules: ModuleReport }
  | { type: 'outcome'; id: number; outcome: Outcome }
  /** Every HEARTBEAT_MS: the process is alive, its resident memory, its pools and its modules (one may load late). */
  | {
      type: 'beat';
      rssMb: number;
      stats: Record<string, Record<string, number>>;
      connections: Record<string, Record<string, number>>;
      modules: ModuleReport;
    }
  /** isolated-vm lost control of an isolate: this process must be replaced. */
  | { type: 'fatal'; message: string };

/** How a sandbox process loaded its own modules (see precompiled.ts). */
export interface ModuleReport {
  /** Modules served as the server stripped them. */
  precompiled: number;
  /** `.ts` modules Node had to strip in the process (none, unless the server's walk missed one). */
  strippedHere: string[];
  /** Whether Node's TypeScript stripper (amaro, about 30 MB) was loaded in the process. */
  stripperLoaded: boolean;
}

export const HEARTBEAT_MS = 200;

/** The plain-data part of a request: every own property that is not a function. */
export function dataOnly(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item !== 'function' && item !== undefined) out[key] = item;
  return out;
}

/**
 * The plain-data part of options: the properties that survive a structured clone (a logger or
 * any other object of functions does not). Checked once per sandbox, not per request.
 */
export function cloneableOnly(value: object, omit: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(dataOnly(value))) {
    if (omit.includes(key)) continue;
    try {
      out[key] = structuredClone(item);
    } catch {
      // Not data: it stays in the server.
    }
  }
  return out;
}
