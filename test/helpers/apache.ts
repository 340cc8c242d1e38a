import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const APACHE = process.env.FERRY_TEST_APACHE ?? '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

/** Why Apache with mod_auth_openidc cannot run here, or undefined when it can. */
export function apacheMissing(): string | undefined {
  if (!existsSync(APACHE)) return `Apache is not installed at ${APACHE} (apt-get install apache2 libapache2-mod-auth-openidc)`;
  if (!existsSync(join(MODULES, 'mod_auth_openidc.so'))) return `mod_auth_openidc is not installed in ${MODULES} (apt-get install libapache2-mod-auth-openidc)`;
  return undefined;
}

export interface ApacheOptions {
  port: number;
  /** The `OIDC*` directives, one per line, for the server. */
  oidc: string;
}

export interface RunningApache {
  /** http://localhost:<port>: a host name other than Ferry's 127.0.0.1, so the two keep their cookies apart. */
  origin: string;
  /** What Apache and mod_auth_openidc logged so far. */
  errorLog(): string;
  stop(): Promise<void>;
}

/** Prints the OIDC_* variables mod_auth_openidc gives the protected application. */
const CLAIMS_SCRIPT = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "REMOTE_USER=$REMOTE_USER"
env | grep '^OIDC_' | sort
`;

/**
 * Apache in the foreground (one process, `-X`) with a configuration of its own in a temporary
 * folder: /protected/ is a CGI script behind `AuthType openid-connect`, /public/ static pages.
 * `stop()` kills its process group and removes the folder; so does this process's exit.
 */
export async function startApache(options: ApacheOptions): Promise<RunningApache> {
  const root = mkdtempSync(join(tmpdir(), 'ferry-apache-'));
  const started = launch(root, options);
  try {
    await listening(options.port, started.child, () => `${started.stderr()}\n${readLog(root)}`);
  } catch (error) {
    await started.stop();
    throw error;
  }
  return { origin: `http://localhost:${options.port}`, errorLog: () => readLog(root), stop: started.stop };
}

function launch(root: string, options: ApacheOptions): { child: ChildProcess; stderr(): string; stop(): Promise<void> } {
  // Apache's workers run as www-data when started as root; the folder must be theirs to read.
  chmodSync(root, 0o755);
  mkdirSync(join(root, 'cgi'));
  mkdirSync(join(root, 'public'));
  writeFileSync(join(root, 'cgi', 'claims'), CLAIMS_SCRIPT, { mode: 0o755 });
  writeFileSync(join(root, 'public', 'index.html'), '<h1>Public home</h1>\n', { mode: 0o644 });
  writeFileSync(join(root, 'public', 'signed-out.html'), '<h1>Signed out of the app</h1>\n', { mode: 0o644 });
  writeFileSync(join(root, 'httpd.conf'), httpdConf(root, options), { mode: 0o644 });

  const child = spawn(APACHE, ['-X', '-d', root, '-f', join(root, 'httpd.conf')], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  // Should the test process die without running `after`, Apache must not outlive it.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  return {
    child,
    stderr: () => stderr,
    async stop() {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', onExit);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function httpdConf(root: string, { port, oidc }: ApacheOptions): string {
  const modules = ['mpm_prefork', 'authz_core', 'authz_user', 'authn_core', 'auth_openidc', 'cgi', 'alias', 'headers', 'rewrite'];
  const runAs = process.getuid?.() === 0 ? 'User www-data\nGroup www-data\n' : '';
  return `ServerRoot "${root}"
ServerName localhost
Listen 127.0.0.1:${port}
${modules.map((name) => `LoadModule ${name}_module ${MODULES}/mod_${name}.so`).join('\n')}
${runAs}PidFile ${root}/httpd.pid
DefaultRuntimeDir ${root}
Mutex file:${root} default
ErrorLog ${root}/error.log
# One process (-X) serves one connection at a time: a kept-alive one would hold up the next.
KeepAlive Off
LogLevel warn auth_openidc:debug
# The tests' browser is fetch, which always sends Sec-Fetch-Mode: cors; mod_auth_openidc answers
# such (script) requests 401 instead of redirecting. A person's browser navigating sends navigate.
RequestHeader set Sec-Fetch-Mode navigate early

${oidc}

Alias /public/ ${root}/public/
<Directory ${root}/public>
  Require all granted
</Directory>
ScriptAlias /protected/ ${root}/cgi/
<Directory ${root}/cgi>
  Require all granted
</Directory>
<Location /protected/>
  AuthType openid-connect
  Require valid-user
</Location>
`;
}

function readLog(root: string): string {
  try {
    return readFileSync(join(root, 'error.log'), 'utf8');
  } catch {
    return '';
  }
}

async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Apache exited (${child.exitCode ?? child.signalCode}) at start:\n${log()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Apache did not listen on ${port} within 15 s:\n${log()}`);
}
