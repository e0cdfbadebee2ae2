// Chooses the store backend from `[store] url`: the one place that knows which adapters exist.
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { createSqliteStore } from './sqlite/index.ts';

export function openStore(url: string, clock: Clock, opts: { migrate?: boolean } = {}): Store {
  if (url.startsWith('sqlite:'))
    return createSqliteStore({ path: url.slice('sqlite:'.length), clock, ...opts });
  throw new Error(`store url "${url.split(':')[0]}:…" is not supported yet; use sqlite:PATH`);
}
