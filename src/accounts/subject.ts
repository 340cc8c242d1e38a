/**
 * A subject is an account's id (the legacy `String(profile.id)` for users from a custom database)
 * after the configured prefix, so relying parties see one `sub` before and after migration.
 */
export const subjectOf = (prefix: string, id: string): string => `${prefix}${id}`;

/** The id a subject was made from, or undefined when it does not carry the prefix. */
export const idOfSubject = (prefix: string, sub: string): string | undefined => (sub.startsWith(prefix) ? sub.slice(prefix.length) : undefined);
