import { z } from 'zod';
import { errorBody } from './schemas.ts';
import { allowedRoles, openApiPath, type ApiRoute } from './route.ts';

type JsonSchema = Record<string, unknown>;

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is not valid (details lists the problems).',
  401: 'The bearer token is missing or wrong.',
  403: "The key's role may not do this (x-ferry-roles lists the roles that may).",
  404: 'Not found.',
  409: 'Conflict.',
  413: 'The body is too large (send large imports as NDJSON).',
  429: 'Too many requests: wait retry-after seconds.',
  503: 'The legacy database could not be reached.',
};

/** A zod schema as JSON Schema, without the $schema key (it sits inside a larger document). */
export const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

const optional = (schema: z.ZodType) => schema.safeParse(undefined).success;

/** Path or query parameters from an object schema, one per key. */
function parameters(where: 'path' | 'query', schema: z.ZodType | undefined): JsonSchema[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const { description, ...fieldSchema } = jsonSchema(field, 'input');
    return { name, in: where, required: where === 'path' || !optional(field), schema: fieldSchema, ...(description ? { description } : {}) };
  });
}

function operation(route: ApiRoute): JsonSchema {
  const status = route.status ?? (route.response || route.streamed ? 200 : 204);
  const success = route.response
    ? { description: 'OK', content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } }
    : route.streamed
      ? { description: route.streamed.description, content: { [route.streamed.contentType]: { schema: jsonSchema(route.streamed.schema, 'output') } } }
      : { description: 'Done, nothing to answer.' };
  const errors = [
    ...new Set([
      ...(route.body || route.stream || route.query || route.params ? [400] : []),
      ...(route.errors ?? []),
      ...(route.public ? [] : [401, 403]),
      429,
    ]),
  ].sort();
  const roles = route.public ? [] : allowedRoles(route);
  const rolesLine = roles.length > 0 ? `Roles: ${roles.join(', ')}.` : '';
  return {
    operationId: `${route.method}${route.path.replace(/[/:]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
    summary: route.summary,
    ...(route.description || rolesLine ? { description: [route.description, rolesLine].filter(Boolean).join('\n\n') } : {}),
    tags: [route.tag],
    ...(route.public ? { security: [] } : { 'x-ferry-roles': roles }),
    parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
    ...(route.stream ? { requestBody: streamBody(route.stream) } : {}),
    responses: {
      [status]: success,
      ...Object.fromEntries(errors.map((code) => [code, { $ref: `#/components/responses/E${code}` }])),
    },
  };
}

function streamBody(stream: NonNullable<ApiRoute['stream']>): JsonSchema {
  const schema = jsonSchema(stream.schema, 'input');
  return { required: true, description: stream.description, content: Object.fromEntries(stream.contentTypes.map((type) => [type, { schema }])) };
}

/** The OpenAPI 3.1 document of the admin API, built from the same route table the router serves. */
export function buildOpenApi(routes: readonly ApiRoute[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) (paths[openApiPath(route.path)] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ferry admin API',
      version: info.version,
      description:
        "Users, relying parties (clients), the custom-database connection and its scripts, the execution log, migration progress and signing keys. Send `Authorization: Bearer <key>`: an admin key, whose role must be among the operation's `x-ferry-roles`, or the adminToken (owner).",
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An admin key (ferry admin-keys create), or the adminToken from the configuration (the demo prints its own at start).',
        },
      },
      schemas: { Error: jsonSchema(errorBody, 'output') },
      responses: Object.fromEntries(
        Object.entries(ERROR_TEXT).map(([code, description]) => [
          `E${code}`,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    },
  };
}
