import type { Profile } from '../store/queries/accounts.ts';

/**
 * CUSTOM_USER_STORE keeps no user data, so claims come from `getUser`. This short cache (bounded
 * in entries and age) spares the legacy database one call per token and userinfo request.
 */
export function createClaimsCache(options: { maxEntries?: number } = {}) {
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<string, { profile: Profile; expires: number }>();
  return {
    get(sub: string): Profile | undefined {
      const entry = entries.get(sub);
      if (!entry) return undefined;
      if (entry.expires <= Date.now()) {
        entries.delete(sub);
        return undefined;
      }
      return entry.profile;
    },
    set(sub: string, profile: Profile, ttlSeconds: number): void {
      if (ttlSeconds <= 0) return;
      entries.delete(sub);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(sub, { profile, expires: Date.now() + ttlSeconds * 1000 });
    },
    delete(sub: string): void {
      entries.delete(sub);
    },
    clear(): void {
      entries.clear();
    },
  };
}

export type ClaimsCache = ReturnType<typeof createClaimsCache>;
