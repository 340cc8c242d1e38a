import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { processTree, sampleTreeRss, treeRss } from '../../bench/lib/rss.ts';

const MB = 1024 * 1024;

/**
 * A parent process that forks a child holding 64 MiB of written (so resident) memory, as Ferry's
 * server forks its sandbox processes; the parent prints both pids once the child's memory is in.
 */
const PARENT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', "globalThis.keep = Buffer.alloc(64 * 1024 * 1024, 1); process.send('in'); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
child.once('message', () => console.log(JSON.stringify({ parent: process.pid, child: child.pid })));
process.on('SIGTERM', () => { child.kill(); process.exit(0); });
`;

describe('bench: resident memory of a process tree', { timeout: 60_000 }, () => {
  let parent: ReturnType<typeof spawn>;
  let pids: { parent: number; child: number };

  before(async () => {
    parent = spawn(process.execPath, ['-e', PARENT], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    pids = JSON.parse(line.toString());
  });

  after(async () => {
    parent.kill('SIGTERM');
    await once(parent, 'exit');
  });

  it('finds the forked child under its parent', () => {
    const tree = processTree(pids.parent);
    assert.deepEqual(tree.slice(0, 1), [pids.parent]);
    assert.ok(tree.includes(pids.child), `child ${pids.child} not in ${tree}`);
  });

  it("sums the child's memory with the parent's", () => {
    const memory = treeRss(pids.parent);
    assert.equal(memory.processes, 2);
    assert.ok(memory.root > 0 && memory.root < memory.total);
    assert.ok(memory.total - memory.root >= 64 * MB, `the child's ${(memory.total - memory.root) / MB} MB miss its 64 MiB buffer`);
  });

  it('keeps the peak sampled under a row name, and samples nothing between rows', () => {
    const idle = sampleTreeRss(pids.parent);
    assert.equal(idle.stop(), undefined);
    const sampler = sampleTreeRss(pids.parent);
    sampler.during('first logins');
    sampler.during(undefined);
    const peak = sampler.stop();
    assert.ok(peak);
    assert.equal(peak.during, 'first logins');
    assert.equal(peak.processes, 2);
    assert.ok(peak.total >= 64 * MB);
  });
});
