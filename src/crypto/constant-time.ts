// The one audited helper for comparing secrets: constant time, never throws, never short-circuits on length.
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * True when `a` and `b` are the same string. Both sides are hashed first so the comparison always runs over
 * 32 equal-length bytes: timingSafeEqual would throw on a length mismatch, and an early return would leak it.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
