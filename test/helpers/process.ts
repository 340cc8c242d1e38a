import { spawn } from 'node:child_process';

export interface NodeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The run outlasted `killAfterMs` and was ended with SIGKILL. */
  killed: boolean;
}

/** Runs `node …args` (this Node, or `execPath`) as a child process and collects what it prints until it ends, or until it is killed after `killAfterMs`. */
export function runNode(args: string[], options: { killAfterMs: number; cwd?: string; env?: NodeJS.ProcessEnv; execPath?: string }): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.execPath ?? process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, options.killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed });
    });
  });
}
