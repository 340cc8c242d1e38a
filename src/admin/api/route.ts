import type { Context } from 'koa';
import type { z } from 'zod';
import { rolesFor, type Role } from '../roles.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;
// biome-ignore lint/suspicious/noConfusingVoidType: a handler without a response schema returns nothing
type Returns<S extends Schema> = S extends z.ZodType ? z.input<S> : void;

/**
 * One admin API operation. The router validates with these schemas and the OpenAPI document is
 * generated from them, so what is documented is what is served.
 */
export interface RouteDefinition<P extends Schema, Q extends Schema, B extends Schema, R extends Schema> {
  method: Method;
  /** Below /api/v1, in the router's syntax: `/users/:sub`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Served without the bearer token (the OpenAPI document). */
  public?: boolean;
  /** The roles allowed; by default those of the tag and method (src/admin/roles.ts, `rolesFor`). */
  roles?: readonly Role[];
  params?: P;
  query?: Q;
  body?: B;
  /**
   * A body the handler reads itself from `ctx.req` as it arrives (an upload too large to hold),
   * documented with `schema` for each content type. Only for routes without `body`.
   */
  stream?: { contentTypes: string[]; schema: z.ZodType; description: string };
  /**
   * An answer the handler streams itself into `ctx.body` (an export too large to hold), documented
   * as `contentType` with `schema` for each item. Only for routes without `response`.
   */
  streamed?: { contentType: string; schema: z.ZodType; description: string };
  /** Status of a successful answer: 200 by default, 204 for routes without a response schema. */
  status?: number;
  response?: R;
  /** Error statuses this operation may answer, besides 401 and 429 (documented). */
  errors?: number[];
  handle(input: { params: Out<P>; query: Out<Q>; body: Out<B>; ctx: Context }): Promise<Returns<R>>;
}

export type ApiRoute = RouteDefinition<Schema, Schema, Schema, Schema>;

/** Declares a route with the handler's input and output typed from its schemas. */
export function defineRoute<P extends Schema = undefined, Q extends Schema = undefined, B extends Schema = undefined, R extends Schema = undefined>(
  route: RouteDefinition<P, Q, B, R>,
): ApiRoute {
  return route as unknown as ApiRoute;
}

/** The roles a route allows: its own list, or its tag's for its method. */
export function allowedRoles(route: Pick<ApiRoute, 'roles' | 'tag' | 'method'>): readonly Role[] {
  return route.roles ?? rolesFor(route.tag, route.method);
}

export const API_PREFIX = '/api/v1';

/** `/users/:sub` → `/api/v1/users/{sub}`, the OpenAPI spelling. */
export function openApiPath(path: string): string {
  return API_PREFIX + path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}
