/**
 * Ends the process with `code` once its event loop has nothing left to do, or at the latest after
 * `graceMs`.
 *
 * Why not process.exit(): it tears down Node's V8 platform at once, while isolates that the sandbox
 * has just disposed may still be tearing down on isolated-vm's own threads. Such an isolate then
 * calls into the platform that is gone and the process ends with SIGSEGV instead of `code` (seen
 * after memory-limit kills under load: 15 of 72 exits). A natural exit runs isolated-vm's
 * environment clean-up hook first, and that hook waits for every isolate to be disposed.
 *
 * The timer is unref'd: it does not keep the process alive, it only ends a process that something
 * else keeps alive (a connection that was not closed, say).
 */
export function exitWhenIdle(code: number, graceMs = 5000): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), graceMs).unref();
}
