// A throttle counter row as both SQL stores return it, and its mapper.
import type { ThrottleState } from '../ports/store.ts';

export interface ThrottleRow {
  key: string;
  failures: number;
  last_failure_at: number;
  blocked_until: number;
}

export const toState = (r: ThrottleRow): ThrottleState => ({
  failures: r.failures,
  lastFailureAt: r.last_failure_at,
  blockedUntil: r.blocked_until,
});
