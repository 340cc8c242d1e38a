/**
 * Resident memory of a server and every process below it (Ferry's sandbox processes are forked by
 * the server: their parent pid is the server's), summed from /proc/<pid>/status VmRSS at one
 * moment, sampled on a timer. The peak of the sum is what the machine must hold for Ferry at once;
 * summing each process's own peak (VmHWM) instead would add peaks that never coincided.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeRss {
  /** Sum of VmRSS over the tree, bytes. */
  total: number;
  /** The root process's own VmRSS, bytes. */
  root: number;
  processes: number;
}

export interface RssPeak extends TreeRss {
  /** The label set by `during` when the peak was sampled (the bench row running then). */
  during: string;
  samples: number;
}

function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after its last ')' are fixed.
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {} // ended while listed
  }
  return parents;
}

/** The pid and all its descendants alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parentPids()) children.set(parent, [...(children.get(parent) ?? []), child]);
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

function vmRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0; // a zombie has no VmRSS line
  } catch {
    return undefined; // ended between the listing and the read
  }
}

export function treeRss(pid: number): TreeRss {
  let total = 0;
  let root = 0;
  let processes = 0;
  for (const member of processTree(pid)) {
    const rss = vmRss(member);
    if (rss === undefined) continue;
    total += rss;
    processes += 1;
    if (member === pid) root = rss;
  }
  return { total, root, processes };
}

/**
 * Samples `treeRss(pid)` every `intervalMs` while a label is set (`during(row)`; `during(undefined)`
 * pauses) and keeps the highest total, with the label it was sampled under.
 */
export function sampleTreeRss(pid: number, intervalMs = 200) {
  let label: string | undefined;
  let samples = 0;
  let peak: RssPeak | undefined;
  const take = () => {
    if (label === undefined) return;
    const now = treeRss(pid);
    samples += 1;
    if (now.processes > 0 && (!peak || now.total > peak.total)) peak = { ...now, during: label, samples: 0 };
  };
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    /** Samples from now on under `row`'s name; undefined stops sampling until the next row. */
    during(row: string | undefined) {
      take();
      label = row;
      take();
    },
    peak(): RssPeak | undefined {
      return peak && { ...peak, samples };
    },
    stop(): RssPeak | undefined {
      take();
      clearInterval(timer);
      label = undefined;
      return peak && { ...peak, samples };
    },
  };
}
