import type { Context } from 'koa';
import { BadRequest, FerryError } from '../errors.ts';
import { checkForm, checkJson, type FormShape } from './input.ts';

const FORM_LIMIT = 64 * 1024;
export const JSON_LIMIT = 1024 * 1024;
/** A form carrying what the JSON API accepts: URL encoding turns one byte into up to three. */
export const LARGE_FORM_LIMIT = 3 * JSON_LIMIT;

async function readRaw(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new FerryError('The request body is too large.', { status: 413, code: 'body_too_large' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new FerryError('The request body is too large.', { status: 413, code: 'body_too_large' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An `application/x-www-form-urlencoded` body as a map of its first values, every one checked
 * (see ./input.ts); `limit` raises the body limit for a form that carries a script.
 */
export async function readForm(ctx: Context, shape: FormShape & { limit?: number } = {}): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new BadRequest('Send the form as application/x-www-form-urlencoded.', 'unsupported_media_type');
  }
  const params = new URLSearchParams(await readRaw(ctx, shape.limit ?? FORM_LIMIT));
  const form: Record<string, string> = Object.create(null);
  for (const [key, value] of params) if (!(key in form)) form[key] = value;
  checkForm(form, shape);
  return form;
}

/** A JSON body; a syntax error or a non-object is a BadRequest. */
export async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new BadRequest('Send the body as application/json.', 'unsupported_media_type');
  const text = await readRaw(ctx, JSON_LIMIT);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new BadRequest(`The body is not valid JSON: ${(error as Error).message}`, 'invalid_json');
  }
  checkJson(body);
  return body;
}
