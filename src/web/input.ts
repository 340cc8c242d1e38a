import { BadRequest } from '../errors.ts';

/** Most form values: a password, a note, a test input, a certificate in a variable. Longer ones are named by the form (a script's source). */
export const MAX_VALUE_CHARS = 16 * 1024;
/** Identifiers and names: an email address is at most 254 characters. */
export const MAX_LINE_CHARS = 256;

/** What the fields of one form may hold beyond the rules every value follows. */
export interface FormShape {
  /** Fields of one line (identifiers, names): no control character at all, at most MAX_LINE_CHARS. */
  lines?: readonly string[];
  /** Fields that may be as long as the body allows (a script's source). */
  long?: readonly string[];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const LINE_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Why `value` cannot be used as text, or undefined when it can. NUL bytes and lone surrogates are
 * refused everywhere: PostgreSQL cannot store a NUL (the query fails with a 500 on every request),
 * and neither survives a trip through a legacy database's driver. A form's U+FFFD stands for bytes
 * that were not UTF-8, so it is refused in forms too.
 */
export function textProblem(value: string, options: { line?: boolean; maxChars?: number; form?: boolean } = {}): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL byte';
  if (!value.isWellFormed()) return 'contains a lone UTF-16 surrogate';
  if (options.form && value.includes('\ufffd')) return 'is not valid UTF-8';
  if ((options.line ? LINE_CONTROL : CONTROL).test(value)) return 'contains a control character';
  if (options.maxChars !== undefined && value.length > options.maxChars) return `is longer than ${options.maxChars} characters`;
  return undefined;
}

const refuse = (field: string, problem: string) =>
  new BadRequest(`The field "${field.slice(0, 64)}" ${problem}. Check what you entered and try again.`, 'invalid_input', [
    { path: field.slice(0, 64), message: problem },
  ]);

/** Checks every field of a form, before any of it reaches a database or a script. */
export function checkForm(form: Record<string, string>, shape: FormShape = {}): void {
  for (const [field, value] of Object.entries(form)) {
    const line = shape.lines?.includes(field) ?? false;
    const maxChars = line ? MAX_LINE_CHARS : shape.long?.includes(field) ? undefined : MAX_VALUE_CHARS;
    const problem = textProblem(field, { form: true, line: true, maxChars: MAX_LINE_CHARS }) ?? textProblem(value, { form: true, line, maxChars });
    if (problem) throw refuse(field, problem);
  }
}

/** Checks every string (keys too) of a parsed JSON body: no NUL byte, no lone surrogate. */
export function checkJson(value: unknown, path = ''): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) throw refuse(path || 'body', problem);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkJson(item, path ? `${path}.${index}` : String(index));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const problem = textProblem(key);
      if (problem) throw refuse(path || 'body', `has a key that ${problem}`);
      checkJson(item, path ? `${path}.${key}` : key);
    }
  }
}
