/** Checks a password against one parsed stored hash. */
export type Verifier = (password: string) => Promise<boolean>;

/**
 * One legacy hash format: how to recognise it from the stored string, and how to read it into a
 * verifier. `read` throws a HashProblem when the string is malformed or costs more than LIMITS
 * allow; it runs at import (so the problem is reported there) and again at each sign-in.
 */
export interface HashFormat {
  /** The name in docs/password-hashes.md and the import report. */
  name: string;
  matches(stored: string): boolean;
  read(stored: string): Verifier;
}
