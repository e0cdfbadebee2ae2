// Exponential back-off for failed sign-ins, as a pure function over a stored counter.
import type { ThrottleState } from '../ports/store.ts';

export interface ThrottlePolicy {
  /** Failures allowed before any wait is imposed. */
  free: number;
  /** The first wait; each further failure doubles it. */
  baseMs: number;
  maxMs: number;
  /** A counter with no failure for this long starts again from zero: nobody stays locked out for good. */
  forgetAfterMs: number;
}

/** The counter after one more failure at `now`. */
export function nextThrottleState(
  prev: ThrottleState | null,
  now: number,
  policy: ThrottlePolicy,
): ThrottleState {
  const fresh = prev === null || now - prev.lastFailureAt >= policy.forgetAfterMs;
  const failures = fresh ? 1 : prev.failures + 1;
  const over = failures - policy.free;
  const wait = over < 0 ? 0 : Math.min(policy.baseMs * 2 ** Math.min(over, 30), policy.maxMs);
  return { failures, lastFailureAt: now, blockedUntil: wait === 0 ? 0 : now + wait };
}

/** Milliseconds until the key may try again; 0 when it may now. */
export function waitFor(state: ThrottleState | undefined, now: number): number {
  return state && state.blockedUntil > now ? state.blockedUntil - now : 0;
}
