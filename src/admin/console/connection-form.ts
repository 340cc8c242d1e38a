import type { ConnectionChange, ConnectionView } from '../library/connection.ts';
import { isSecretName, PROGRAMMATIC_FORM, URI_FORM } from '../library/secrets.ts';

/** The limits the console lets people change (the rest stay as configured). */
export const FORM_LIMITS = [
  { name: 'timeoutMs', label: 'Time limit per execution (ms)' },
  { name: 'cpuTimeMs', label: 'CPU time per execution (ms)' },
  { name: 'memoryMb', label: 'Memory (MiB)' },
  { name: 'connectTimeoutMs', label: 'Connect timeout (ms)' },
] as const;

/** The connection page's fields, filled from the saved connection or from a submitted form. */
export interface ConnectionModel {
  enabled: boolean;
  mode: string;
  form: 'uri' | 'programmatic';
  uri: string;
  programmatic: Record<(typeof PROGRAMMATIC_FORM)[number], string>;
  custom: { name: string; value: string; secret: boolean }[];
  limits: Record<string, string>;
  showScriptErrors: boolean;
  claimsCacheSeconds: string;
  maxConcurrentScripts: string;
  breaker: { failureThreshold: string; openSeconds: string };
}

const FORM_NAMES = new Set<string>([...URI_FORM, ...PROGRAMMATIC_FORM]);
const BLANK_ROWS = 2;

export function modelFromView(view: ConnectionView): ConnectionModel {
  return {
    enabled: view.enabled,
    mode: view.mode,
    form: view.form === 'programmatic' ? 'programmatic' : 'uri',
    uri: view.env.DB_CONNECTION_URI ?? '',
    programmatic: Object.fromEntries(PROGRAMMATIC_FORM.map((name) => [name, view.env[name] ?? ''])) as ConnectionModel['programmatic'],
    custom: withBlanks(
      Object.entries(view.env)
        .filter(([name]) => !FORM_NAMES.has(name))
        .map(([name, value]) => ({ name, value, secret: isSecretName(name) })),
    ),
    limits: Object.fromEntries(FORM_LIMITS.map(({ name }) => [name, String(view.limits[name])])),
    showScriptErrors: view.showScriptErrors,
    claimsCacheSeconds: String(view.claimsCacheSeconds),
    maxConcurrentScripts: String(view.maxConcurrentScripts),
    breaker: { failureThreshold: String(view.breaker.failureThreshold), openSeconds: String(view.breaker.openSeconds) },
  };
}

export function modelFromForm(form: Record<string, string>): ConnectionModel {
  const custom: ConnectionModel['custom'] = [];
  for (let index = 0; index < 200 && `env_name_${index}` in form; index++) {
    const name = (form[`env_name_${index}`] ?? '').trim();
    if (name && form[`env_remove_${index}`] !== 'on') custom.push({ name, value: form[`env_value_${index}`] ?? '', secret: isSecretName(name) });
  }
  return {
    enabled: form.enabled === 'on',
    mode: form.mode ?? 'LAZY_MIGRATION',
    form: form.form === 'programmatic' ? 'programmatic' : 'uri',
    uri: (form.DB_CONNECTION_URI ?? '').trim(),
    programmatic: Object.fromEntries(PROGRAMMATIC_FORM.map((name) => [name, (form[name] ?? '').trim()])) as ConnectionModel['programmatic'],
    custom: withBlanks(custom),
    limits: Object.fromEntries(FORM_LIMITS.map(({ name }) => [name, (form[`limit_${name}`] ?? '').trim()])),
    showScriptErrors: form.showScriptErrors === 'on',
    claimsCacheSeconds: (form.claimsCacheSeconds ?? '').trim(),
    maxConcurrentScripts: (form.maxConcurrentScripts ?? '').trim(),
    breaker: { failureThreshold: (form.breaker_failureThreshold ?? '').trim(), openSeconds: (form.breaker_openSeconds ?? '').trim() },
  };
}

/**
 * The change a submitted form asks for. The form holds every variable, so it replaces them: the
 * chosen form's variables (the other form's are dropped) and the custom ones that were not removed.
 */
export function changeFromModel(model: ConnectionModel): ConnectionChange {
  const env: Record<string, string> = {};
  if (model.form === 'uri' && model.uri) env.DB_CONNECTION_URI = model.uri;
  if (model.form === 'programmatic') for (const [name, value] of Object.entries(model.programmatic)) if (value) env[name] = value;
  for (const { name, value } of model.custom) if (name && !FORM_NAMES.has(name)) env[name] = value;
  const number = (text: string) => (text === '' ? undefined : Number(text));
  return {
    enabled: model.enabled,
    mode: model.mode as ConnectionChange['mode'],
    replaceEnv: env,
    limits: Object.fromEntries(
      Object.entries(model.limits)
        .filter(([, value]) => value !== '')
        .map(([name, value]) => [name, Number(value)]),
    ),
    showScriptErrors: model.showScriptErrors,
    claimsCacheSeconds: number(model.claimsCacheSeconds),
    maxConcurrentScripts: number(model.maxConcurrentScripts),
    breaker: { failureThreshold: number(model.breaker.failureThreshold), openSeconds: number(model.breaker.openSeconds) },
  };
}

function withBlanks(rows: ConnectionModel['custom']): ConnectionModel['custom'] {
  return [...rows, ...Array.from({ length: BLANK_ROWS }, () => ({ name: '', value: '', secret: false }))];
}
