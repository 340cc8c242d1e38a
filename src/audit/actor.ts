import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is acting for the admin changes in this async context: the door the request came through
 * (`adminToken` for the admin API, `console`), set by src/admin/index.ts; `cli` outside a request.
 * A named admin (roles) replaces the door's name with the key's.
 */
const actors = new AsyncLocalStorage<{ name: string }>();

export function actingAs<T>(actor: string, work: () => T): T {
  return actors.run({ name: actor }, work);
}

/** Names who acts for the rest of this request, once the request's admin is known (the key's name and the door). */
export function nameActor(name: string): void {
  const actor = actors.getStore();
  if (actor) actor.name = name;
}

export function currentActor(): string {
  return actors.getStore()?.name ?? 'cli';
}
