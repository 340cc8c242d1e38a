import type { z } from 'zod';
import { BadRequest } from '../../errors.ts';

/** A zod error as a BadRequest: the message names the first problem, `details` lists them all by field. */
export function invalid(error: z.ZodError, message = 'The request is not valid.'): BadRequest {
  const details = error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const first = details[0];
  return new BadRequest(first ? `${message} ${first.path ? `${first.path}: ` : ''}${first.message}` : message, 'invalid_request', details);
}

/** Parses `value` with `schema`, throwing the BadRequest above. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, message?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(result.error, message);
  return result.data;
}
