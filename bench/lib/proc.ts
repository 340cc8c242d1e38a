/** Reading a process's or thread's CPU time from /proc, for the bench scripts. */
import { readFileSync } from 'node:fs';

/** utime + stime of one /proc/<pid>/task/<tid>/stat or /proc/<pid>/stat, and its name. */
export function readStat(path: string): { comm: string; ticks: number; start: string } | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]), start: fields[19]! };
  } catch {
    return undefined;
  }
}
