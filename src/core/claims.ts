// Claim arithmetic: which claims a user holds in a context, token narrowing, and route requirements.
import type { ClaimGrant } from '../ports/store.ts';

/** Claims granted globally (context "") or in `context`, sorted and unique. */
export function claimsInContext(grants: readonly ClaimGrant[], context: string): string[] {
  const set = new Set<string>();
  for (const g of grants) if (g.context === '' || g.context === context) set.add(g.claim);
  return [...set].sort();
}

/** A narrowed token holds only the claims it names that its owner still holds. */
export function narrowClaims(
  held: readonly string[],
  tokenClaims: readonly string[] | null,
): readonly string[] {
  if (tokenClaims === null) return held;
  const allowed = new Set(tokenClaims);
  return held.filter((c) => allowed.has(c));
}

export function hasAllClaims(held: readonly string[], required: readonly string[]): boolean {
  for (const r of required) if (!held.includes(r)) return false;
  return true;
}
