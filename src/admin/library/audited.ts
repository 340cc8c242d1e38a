import type { AuditLog } from '../../audit/index.ts';
import type { ConnectionSettings } from '../../connection/settings.ts';
import { isSecretName, MASK, maskSecrets, secretValues } from '../../sandbox/secrets.ts';

type Json = Record<string, unknown>;

/**
 * Every admin change recorded in the audit log, whichever door it came through: the library's
 * changing operations wrapped, each recording what changed (before and after, secrets masked by
 * the one masking rule of src/sandbox/secrets.ts) once it succeeded. Reads are not recorded.
 */
export function auditChanges<L extends AuditedLibrary>(library: L, audit: Pick<AuditLog, 'admin'>, settings: Pick<ConnectionSettings, 'current'>): L {
  const secrets = async () => secretValues((await settings.current()).env);
  const { scripts, connection, clients, users, keys, imports } = library;
  const changed = async (type: string, subject: string | undefined, before: unknown, after: unknown) => {
    const hidden = await secrets();
    audit.admin(type, { subject, detail: diff(mask(before, hidden), mask(after, hidden)) });
  };
  return {
    ...library,
    scripts: {
      ...scripts,
      async save(name, source, note) {
        const before = await scripts.get(name);
        const after = await scripts.save(name, source, note);
        await changed('admin.script.saved', name, pickScript(before), pickScript(after));
        return after;
      },
      async rollback(name, version) {
        const before = await scripts.get(name);
        const after = await scripts.rollback(name, version);
        await changed('admin.script.rolled-back', name, pickScript(before), { ...pickScript(after), rolledBackTo: version });
        return after;
      },
    },
    connection: {
      ...connection,
      async update(change) {
        const before = await connection.view();
        const storedBefore = (await settings.current()).env;
        const after = await connection.update(change);
        const storedAfter = (await settings.current()).env;
        const hidden = [...secretValues(storedBefore), ...secretValues(storedAfter)];
        const detail = diff(mask(before, hidden), mask(after, hidden));
        // A secret replaced by another shows as the mask on both sides: say which ones changed.
        const secretsChanged = Object.keys({ ...storedBefore, ...storedAfter }).filter(
          (name) => storedBefore[name] !== storedAfter[name] && before.env[name] === after.env[name],
        );
        audit.admin('admin.connection.changed', { detail: secretsChanged.length ? { ...detail, secretsChanged } : detail });
        return after;
      },
    },
    clients: {
      ...clients,
      async create(input) {
        const made = await clients.create(input);
        await changed('admin.client.created', made.client.clientId, {}, made.client);
        return made;
      },
      async update(clientId, input) {
        const before = await clients.get(clientId);
        const made = await clients.update(clientId, input);
        await changed('admin.client.changed', clientId, before, made.client);
        return made;
      },
      async rotateSecret(clientId) {
        const made = await clients.rotateSecret(clientId);
        audit.admin('admin.client.secret-rotated', { subject: clientId });
        return made;
      },
      async setDisabled(clientId, disabled) {
        const before = await clients.get(clientId);
        const after = await clients.setDisabled(clientId, disabled);
        await changed('admin.client.changed', clientId, before, after);
        return after;
      },
      async delete(clientId) {
        const before = await clients.get(clientId);
        await clients.delete(clientId);
        await changed('admin.client.deleted', clientId, before, {});
      },
    },
    users: {
      ...users,
      async create(input) {
        const after = await users.create(input);
        await changed('admin.user.created', after.sub, {}, after);
        return after;
      },
      async update(sub, changes) {
        const before = await users.get(sub);
        const after = await users.update(sub, changes);
        await changed('admin.user.changed', sub, before, after);
        return after;
      },
      async delete(sub) {
        await users.delete(sub);
        audit.admin('admin.user.deleted', { subject: sub });
      },
      async setPassword(sub, password) {
        await users.setPassword(sub, password);
        audit.admin('admin.user.password-set', { subject: sub });
      },
      async endSessions(sub, uid) {
        const ended = await users.endSessions(sub, uid);
        audit.admin('user.sessions-ended', { subject: sub, detail: { ...ended, ...(uid ? { uid } : {}) } });
        return ended;
      },
      async block(sub) {
        const after = await users.block(sub);
        audit.admin('user.blocked', { subject: sub });
        return after;
      },
      async unblock(sub) {
        const after = await users.unblock(sub);
        audit.admin('user.unblocked', { subject: sub });
        return after;
      },
      async resetSecondFactors(sub) {
        const removed = await users.resetSecondFactors(sub);
        audit.admin('second-factor.reset', { subject: sub, detail: removed });
        return removed;
      },
    },
    keys: {
      ...keys,
      async rotate() {
        const rotation = await keys.rotate();
        audit.admin('admin.keys.rotated', { detail: { ...rotation } });
        return rotation;
      },
    },
    imports: {
      ...imports,
      async fromUpload(contentType, body, options) {
        const summary = await imports.fromUpload(contentType, body, options);
        const { created, skipped, updated, failedCount } = summary;
        audit.admin('admin.users.imported', { outcome: failedCount > 0 ? 'partial' : 'ok', detail: { created, skipped, updated, failed: failedCount } });
        return summary;
      },
    },
  };
}

/** The parts of the admin library whose changes are audited (its type, without importing index.ts). */
export interface AuditedLibrary {
  scripts: import('./scripts.ts').ScriptLibrary;
  connection: ReturnType<typeof import('./connection.ts').createConnectionLibrary>;
  clients: ReturnType<typeof import('./clients.ts').createClientLibrary>;
  users: ReturnType<typeof import('./users.ts').createUserLibrary>;
  keys: ReturnType<typeof import('./keys.ts').createKeyRotation>;
  imports: ReturnType<typeof import('./import.ts').createImportLibrary>;
}

function pickScript(script: { source: string; version: number | null; origin: string }) {
  return { source: script.source, version: script.version, origin: script.origin };
}

/** Secret-named fields as the mask, any secret value inside text masked, whatever the depth. */
export function mask(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return maskSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => mask(item, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, isSecretName(key) && typeof inner === 'string' && inner !== '' ? MASK : mask(inner, secrets)]),
    );
  }
  return value;
}

/** The top-level fields that differ, as `{ before, after }`. */
export function diff(before: unknown, after: unknown): { before: Json; after: Json } {
  const a = (before ?? {}) as Json;
  const b = (after ?? {}) as Json;
  const out = { before: {} as Json, after: {} as Json };
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) === JSON.stringify(b[key])) continue;
    if (key in a) out.before[key] = a[key];
    if (key in b) out.after[key] = b[key];
  }
  return out;
}
