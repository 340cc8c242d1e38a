// What the host puts into the closure around these files (see ../isolate-source.ts), and the
// types the files share. Checked by `tsc -p src/sandbox/isolate`; the host's tsconfig excludes it.

/** The name of a host operation, from the one list the host's op table is typed against. */
type OpName = import('../op-names.ts').OpName;

/** The four ways of calling the host's dispatcher (isolated-vm Reference methods). */
interface HostReference {
  apply(receiver: undefined, args: [mode: 'async', op: OpName, args: unknown], options: object): Promise<HostAnswer>;
  applySync(receiver: undefined, args: [mode: 'sync', op: OpName, args: unknown], options: object): HostAnswer;
  applyIgnored(receiver: undefined, args: [mode: 'ignored', op: OpName, args: unknown], options: object): void;
  applySyncPromise(receiver: undefined, args: [mode: 'blocking', op: OpName, args: unknown], options: object): HostAnswer;
}

/** What every host operation answers (see createDispatcher in ../bridge/index.ts). */
type HostAnswer = { ok: true; value: unknown } | { ok: false; error?: HostError };

/** An error as the host describes it: the fields drivers set, copied onto the script's Error. */
interface HostError {
  name?: string;
  message?: unknown;
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  number?: unknown;
}

/** An Error with the fields Node and the drivers add. */
type CodedError = Error & { code?: unknown; errno?: unknown; sqlState?: unknown; number?: unknown };

/** The host's dispatcher, the closure's only argument. */
declare const host: HostReference;

/** The builders of the modules scripts may require, by name. */
declare const MODULES: { readonly [name: string]: () => unknown };

/** lodash, built from its package. */
declare function lodashModule(): unknown;
