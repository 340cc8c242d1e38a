import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionSchema } from '../../src/config/schema.ts';
import { createConnectionSettings } from '../../src/connection/settings.ts';
import type { KeyQueries } from '../../src/store/queries/keys.ts';
import type { ScriptQueries } from '../../src/store/queries/scripts.ts';

test('settings saved with limits.httpAllowlist (before connection.egress) are read, and saved again, as egress.allow', async () => {
  const stored = new Map<string, unknown>([['connection:default', { enabled: true, limits: { httpAllowlist: ['api.example.com'], timeoutMs: 3000 } }]]);
  const settings = createConnectionSettings({
    config: connectionSchema.parse({}),
    settings: {
      getSetting: async (key: string) => stored.get(key),
      putSetting: async (key: string, value: unknown) => void stored.set(key, value),
    } as unknown as KeyQueries,
    scripts: {} as ScriptQueries,
  });
  const connection = await settings.current();
  assert.deepEqual(connection.egress, { allow: ['api.example.com'] });
  assert.equal(connection.limits.timeoutMs, 3000);
  await settings.save({ showScriptErrors: true });
  assert.deepEqual(stored.get('connection:default'), {
    enabled: true,
    limits: { timeoutMs: 3000 },
    egress: { allow: ['api.example.com'] },
    showScriptErrors: true,
  });
});
