import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is acting for the admin changes in this async context: the door the request came through
 * (`adminToken` for the admin API, `console`), set by src/admin/index.ts; `cli` outside a request.
 * A named admin (roles) replaces the door's name with the key's.
 */
const actors = new AsyncLocalStorage<string>();

export function actingAs<T>(actor: string, work: () => T): T {
  return actors.run(actor, work);
}

export function currentActor(): string {
  return actors.getStore() ?? 'cli';
}
