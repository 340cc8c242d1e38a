import type Router from '@koa/router';
import type { Context } from 'koa';
import { BadRequest, NotFound } from '../../../errors.ts';
import { isScriptName, SCRIPT_NAMES, type ScriptName } from '../../../connection/connection.ts';
import { LARGE_FORM_LIMIT, readForm } from '../../../web/body.ts';
import type { TestResult } from '../../library/script-test.ts';
import { isTemplateKind, readTemplate, TEMPLATES } from '../../library/templates.ts';
import { formProblem, type ConsolePages } from '../page.ts';
import { TEST_FIELDS, testInput } from '../test-form.ts';

interface EditorState {
  source?: string | undefined;
  /** Why the editor holds something else than the saved script. */
  draft?: string | undefined;
  note?: string | undefined;
  values?: Record<string, string> | undefined;
  result?: (TestResult & { ranDraft: boolean }) | undefined;
  error?: string | undefined;
  details?: { path: string; message: string }[] | undefined;
}

/** The editor's forms carry a script: they accept whatever the admin API's JSON body does. */
const SCRIPT_FORM = { limit: LARGE_FORM_LIMIT, long: ['source'] } as const;

/** The scripts: a list, and one editor page per script with templates, versions and the Test form. */
export function scriptPages(router: Router, { library, csrf, render }: ConsolePages): void {
  const { scripts } = library;
  const nameOf = (ctx: Context): ScriptName => {
    if (!isScriptName(ctx.params.name)) throw new NotFound(`There is no script called "${ctx.params.name}". The scripts are ${SCRIPT_NAMES.join(', ')}.`);
    return ctx.params.name;
  };

  const editor = async (ctx: Context, name: ScriptName, state: EditorState, status = 200) => {
    const script = await scripts.get(name);
    const versions = script.readOnly ? [] : await scripts.versions(name);
    const editable = !script.readOnly || state.draft !== undefined;
    await render(
      ctx,
      'script',
      {
        title: `${name} script`,
        section: 'scripts',
        script,
        versions,
        editable,
        source: state.source ?? script.source,
        draft: state.draft,
        note: state.note ?? '',
        templates: TEMPLATES,
        testFields: TEST_FIELDS[name],
        values: state.values ?? {},
        result: state.result,
        error: state.error,
        details: state.details,
      },
      status,
    );
  };

  router.get('/scripts', async (ctx) => {
    await render(ctx, 'scripts', { title: 'Scripts', section: 'scripts', items: await scripts.list(), connection: await library.connection.view() });
  });

  router.get('/scripts/:name', async (ctx) => {
    const name = nameOf(ctx);
    const template = ctx.query.template;
    if (isTemplateKind(template)) {
      const source = await readTemplate(template, name);
      return editor(ctx, name, { source, draft: `The ${TEMPLATES[template]} template is in the editor. It is not saved yet: change it, Test it, then Save.` });
    }
    if (ctx.query.draft === '1') return editor(ctx, name, { draft: 'This is a draft: Test runs it, but it cannot be saved here.' });
    await editor(ctx, name, {});
  });

  router.post('/scripts/:name/save', async (ctx) => {
    const name = nameOf(ctx);
    const form = await readForm(ctx, SCRIPT_FORM);
    csrf.verify(ctx, form.csrf);
    try {
      await scripts.save(name, unixLines(form.source ?? ''), form.note?.trim() || null);
    } catch (error) {
      const problem = formProblem(error);
      return editor(ctx, name, { source: form.source, draft: 'Not saved.', note: form.note, error: problem.error }, problem.status);
    }
    ctx.redirect(`/console/scripts/${name}?done=saved`);
  });

  router.post('/scripts/:name/rollback', async (ctx) => {
    const name = nameOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const version = Number(form.version);
    if (!Number.isSafeInteger(version) || version < 1) throw new BadRequest('Choose a version to restore.');
    await scripts.rollback(name, version);
    ctx.redirect(`/console/scripts/${name}?done=restored`);
  });

  router.post('/scripts/:name/test', async (ctx) => {
    const name = nameOf(ctx);
    const form = await readForm(ctx, SCRIPT_FORM);
    csrf.verify(ctx, form.csrf);
    const saved = (await scripts.get(name)).source;
    const source = unixLines(form.source ?? saved);
    const ranDraft = source !== saved;
    // Passwords are used, never shown again.
    const values = Object.fromEntries(Object.entries(form).filter(([key]) => key.startsWith('test_') && !/password/i.test(key)));
    const state: EditorState = { source, values, note: form.note, draft: ranDraft ? 'The editor holds a draft that is not saved.' : undefined };
    try {
      const result = await library.tester.test(name, testInput(name, form), { source: ranDraft ? source : undefined, ip: ctx.ip });
      await editor(ctx, name, { ...state, result: { ...result, ranDraft } });
    } catch (error) {
      const problem = formProblem(error);
      await editor(ctx, name, { ...state, error: problem.error, details: problem.details }, problem.status);
    }
  });
}

/** Browsers send a textarea's lines ending in CRLF; scripts are kept with LF. */
function unixLines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}
