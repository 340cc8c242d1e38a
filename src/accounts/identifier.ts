export type IdentifierKind = 'email' | 'phone' | 'username';

export interface Identifier {
  kind: IdentifierKind;
  /** The normalised value: what is stored, compared and passed to scripts. */
  value: string;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const PHONE = /^\+?[0-9(][0-9 ().-]{4,24}$/;
const USERNAME = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u;

/**
 * Reads what a person typed into the single "email, phone or username" field. Something with an
 * `@` is an email, something made of digits (with the usual separators, 6 to 15 digits) is a phone
 * number, anything else a username. Returns undefined for what can be none of them.
 */
export function parseIdentifier(raw: unknown): Identifier | undefined {
  if (typeof raw !== 'string') return undefined;
  const text = raw.normalize('NFKC').trim();
  if (text.includes('@')) return wrap('email', normaliseEmail(text));
  if (PHONE.test(text)) return wrap('phone', normalisePhone(text));
  return wrap('username', normaliseUsername(text));
}

function wrap(kind: IdentifierKind, value: string | undefined): Identifier | undefined {
  return value === undefined ? undefined : { kind, value };
}

/** Lower-cased; undefined when it is not an email address. */
export function normaliseEmail(raw: string): string | undefined {
  const value = raw.normalize('NFKC').trim().toLowerCase();
  return EMAIL.test(value) ? value : undefined;
}

/** Digits only, keeping a leading `+`; undefined when it has not 6 to 15 digits. */
export function normalisePhone(raw: string): string | undefined {
  const text = raw.normalize('NFKC').trim();
  if (!PHONE.test(text)) return undefined;
  const digits = text.replace(/\D/g, '');
  if (digits.length < 6 || digits.length > 15) return undefined;
  return text.startsWith('+') ? `+${digits}` : digits;
}

/**
 * Lower-cased letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64, and
 * not made only of digits and separators (that would read as a phone number).
 */
export function normaliseUsername(raw: string): string | undefined {
  const value = raw.normalize('NFKC').trim().toLowerCase();
  return USERNAME.test(value) && !/^[0-9 ().+-]+$/.test(value) ? value : undefined;
}

/** The script `query` object for an identifier: exactly one of email, phone, username. */
export function toScriptQuery(identifier: Identifier): Record<IdentifierKind, string | undefined> {
  return {
    email: identifier.kind === 'email' ? identifier.value : undefined,
    phone: identifier.kind === 'phone' ? identifier.value : undefined,
    username: identifier.kind === 'username' ? identifier.value : undefined,
  };
}
