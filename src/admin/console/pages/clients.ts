import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BadRequest } from '../../../errors.ts';
import { readForm } from '../../../web/body.ts';
import { clientMetadata } from '../../api/routes/clients.ts';
import type { AdminClient, ClientWithSecret } from '../../library/clients.ts';
import { parseOrThrow } from '../../library/validation.ts';
import { formProblem, type ConsolePages } from '../page.ts';

/** The metadata the form has fields for; the rest goes in its "other metadata" JSON box. */
const FIELDS = ['client_name', 'redirect_uris', 'post_logout_redirect_uris', 'token_endpoint_auth_method', 'skip_consent', 'require_mfa'] as const;
const AUTH_METHODS = [
  { value: 'client_secret_basic', label: 'Server-side app with a secret (client_secret_basic)' },
  { value: 'client_secret_post', label: 'Server-side app with a secret sent in the body (client_secret_post)' },
  { value: 'none', label: 'Browser or mobile app without a secret (none, PKCE)' },
];

type Values = Record<string, string>;
type Problem = { error?: string; details?: { path: string; message: string }[] };

const lines = (text: string | undefined) =>
  (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);

/** The form's values as client metadata: the fields, then the JSON box (which may set anything else). */
function metadataFrom(form: Values): Record<string, unknown> {
  let other: unknown = {};
  if ((form.other ?? '').trim() !== '') {
    try {
      other = JSON.parse(form.other!);
    } catch {
      throw new BadRequest('Other metadata is not JSON: write an object such as {"grant_types": ["authorization_code"]}.', 'invalid_request', [
        { path: 'other', message: 'not JSON' },
      ]);
    }
    if (typeof other !== 'object' || other === null || Array.isArray(other)) {
      throw new BadRequest('Other metadata must be a JSON object.', 'invalid_request', [{ path: 'other', message: 'not an object' }]);
    }
  }
  const postLogout = lines(form.post_logout_redirect_uris);
  return parseOrThrow(
    clientMetadata,
    {
      ...(form.client_id?.trim() ? { client_id: form.client_id.trim() } : {}),
      ...(form.client_name?.trim() ? { client_name: form.client_name.trim() } : {}),
      redirect_uris: lines(form.redirect_uris),
      ...(postLogout.length > 0 ? { post_logout_redirect_uris: postLogout } : {}),
      token_endpoint_auth_method: form.token_endpoint_auth_method || 'client_secret_basic',
      skip_consent: form.skip_consent === 'on',
      // Left out when off, as a client made through the API without it: the metadata says only what was asked for.
      ...(form.require_mfa === 'on' ? { require_mfa: true } : {}),
      ...(other as Record<string, unknown>),
    },
    'The client is not valid.',
  );
}

/** A stored client's metadata as the form's values. */
function valuesOf(client: AdminClient): Values {
  const { metadata } = client;
  const list = (key: string) => (Array.isArray(metadata[key]) ? (metadata[key] as string[]).join('\n') : '');
  const other = Object.fromEntries(Object.entries(metadata).filter(([key]) => !(FIELDS as readonly string[]).includes(key)));
  return {
    client_id: client.clientId,
    client_name: typeof metadata.client_name === 'string' ? metadata.client_name : '',
    redirect_uris: list('redirect_uris'),
    post_logout_redirect_uris: list('post_logout_redirect_uris'),
    token_endpoint_auth_method: typeof metadata.token_endpoint_auth_method === 'string' ? metadata.token_endpoint_auth_method : 'client_secret_basic',
    skip_consent: metadata.skip_consent === true ? 'on' : '',
    require_mfa: metadata.require_mfa === true ? 'on' : '',
    other: Object.keys(other).length > 0 ? JSON.stringify(other, null, 2) : '',
  };
}

const clientParams = z.object({ clientId: z.string().min(1).max(200) });
const href = (clientId: string) => `/console/clients/${encodeURIComponent(clientId)}`;

/** Applications (relying parties): list, create, edit, rotate the secret, disable, enable, delete. */
export function clientPages(router: Router, { library, csrf, render }: ConsolePages): void {
  const { clients } = library;
  const idOf = (ctx: Context) => parseOrThrow(clientParams, ctx.params, 'The path is not valid.').clientId;

  const showList = async (ctx: Context, extra: { values?: Values } & Problem = {}, status = 200) => {
    await render(
      ctx,
      'clients',
      { title: 'Applications', section: 'clients', clients: await clients.list(), methods: AUTH_METHODS, values: extra.values ?? {}, ...extra },
      status,
    );
  };

  /** One client's page; `secret` is shown once, right after it was generated, and never put in a URL. */
  const showClient = async (ctx: Context, client: AdminClient, extra: { values?: Values; secret?: string | undefined } & Problem = {}, status = 200) => {
    await render(
      ctx,
      'client',
      {
        title: `Application ${typeof client.metadata.client_name === 'string' ? client.metadata.client_name : client.clientId}`,
        section: 'clients',
        client,
        methods: AUTH_METHODS,
        secret: undefined,
        ...extra,
        values: extra.values ?? valuesOf(client),
      },
      status,
    );
  };
  const withSecret = (ctx: Context, result: ClientWithSecret, status = 200) => showClient(ctx, result.client, { secret: result.clientSecret }, status);

  router.get('/clients', (ctx) => showList(ctx));

  router.post('/clients', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      return await withSecret(ctx, await clients.create(metadataFrom(form)), 201);
    } catch (error) {
      const problem = formProblem(error);
      return showList(ctx, { values: form, error: problem.error, ...(problem.details ? { details: problem.details } : {}) }, problem.status);
    }
  });

  router.get('/clients/:clientId', async (ctx) => showClient(ctx, await clients.get(idOf(ctx))));

  router.post('/clients/:clientId', async (ctx) => {
    const clientId = idOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      const { client_id: _, ...metadata } = metadataFrom({ ...form, client_id: '' });
      const result = await clients.update(clientId, metadata);
      if (result.clientSecret) return await withSecret(ctx, result);
    } catch (error) {
      const problem = formProblem(error);
      const values = { ...form, client_id: clientId };
      return showClient(
        ctx,
        await clients.get(clientId),
        { values, error: problem.error, ...(problem.details ? { details: problem.details } : {}) },
        problem.status,
      );
    }
    ctx.redirect(`${href(clientId)}?done=client-updated`);
  });

  const action = (path: string, run: (clientId: string) => Promise<unknown>, done: (clientId: string) => string) =>
    router.post(`/clients/:clientId/${path}`, async (ctx) => {
      const clientId = idOf(ctx);
      const form = await readForm(ctx);
      csrf.verify(ctx, form.csrf);
      try {
        await run(clientId);
      } catch (error) {
        const problem = formProblem(error);
        return showClient(ctx, await clients.get(clientId), { error: problem.error }, problem.status);
      }
      ctx.redirect(done(clientId));
    });

  router.post('/clients/:clientId/secret', async (ctx) => {
    const clientId = idOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      return await withSecret(ctx, await clients.rotateSecret(clientId));
    } catch (error) {
      const problem = formProblem(error);
      return showClient(ctx, await clients.get(clientId), { error: problem.error }, problem.status);
    }
  });
  action(
    'disable',
    (id) => clients.setDisabled(id, true),
    (id) => `${href(id)}?done=client-disabled`,
  );
  action(
    'enable',
    (id) => clients.setDisabled(id, false),
    (id) => `${href(id)}?done=client-enabled`,
  );
  action(
    'delete',
    (id) => clients.delete(id),
    () => '/console/clients?done=client-deleted',
  );
}
