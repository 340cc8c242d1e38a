import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares in constant time whatever the lengths: both sides are hashed first. */
export function tokensMatch(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
