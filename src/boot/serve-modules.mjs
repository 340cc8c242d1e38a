/**
 * The load hook of both ways Ferry starts without Node's TypeScript stripper: the server
 * (stripped.mjs) and each sandbox process (sandbox/processes/precompiled-hooks.mjs). A module
 * whose JavaScript `lookup(url)` gives is served as it is (counted in `report.served`); any other
 * `.ts` file is left to Node, which strips it as usual, and is recorded in `report.missed`. Plain
 * JavaScript, so that loading it loads no stripper.
 */
import { registerHooks } from 'node:module';

/**
 * @param {(url: string) => string | undefined} lookup
 * @param {{ served: number, missed: string[] }} report
 */
export function serveModules(lookup, report) {
  registerHooks({
    load(url, context, nextLoad) {
      const source = lookup(url);
      if (source !== undefined) {
        report.served += 1;
        return { format: 'module', source, shortCircuit: true };
      }
      if (url.startsWith('file:') && url.endsWith('.ts')) report.missed.push(url);
      return nextLoad(url, context);
    },
  });
}
