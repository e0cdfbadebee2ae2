// Housekeeping: rows that can never matter again are deleted, so the store does not grow without bound
// (expired sessions and links, idle throttle counters, delivered mails).
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

const DAY = 86_400_000;

export async function purgeStale(store: Store, clock: Clock): Promise<Record<string, number>> {
  const now = clock.now();
  return {
    sessions: await store.sessions.deleteExpired(now, now - DAY),
    throttles: await store.throttles.purge(now, now - DAY),
    links: await store.oneTimeTokens.purge(now - DAY),
    mails: await store.outbox.purge(now - 7 * DAY),
  };
}
