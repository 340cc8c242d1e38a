/** What the CLI prints: results on stdout, progress and problems on stderr (so stdout can be piped). */
export interface Output {
  line(text?: string): void;
  /** `label…` now, then ` done (1.2 s)` or ` failed` when `work` settles. */
  step<T>(label: string, work: () => Promise<T>): Promise<T>;
  problem(text: string): void;
}

export function createOutput(stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    line: (text = '') => void stdout.write(`${text}\n`),
    problem: (text) => void stderr.write(`${text}\n`),
    async step(label, work) {
      stderr.write(`${label}…`);
      const started = performance.now();
      // A dot a second, so a slow database or script still shows signs of life.
      const dots = setInterval(() => stderr.write('.'), 1000);
      try {
        const result = await work();
        stderr.write(` done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
        return result;
      } catch (error) {
        stderr.write(' failed\n');
        throw error;
      } finally {
        clearInterval(dots);
      }
    },
  };
}
