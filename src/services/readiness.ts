// Whether this instance can serve: the store answers and its schema is the one this version runs on. Told apart,
// because they need different fixes: an unreachable database versus migrations another instance (or `migrate`)
// has not applied yet.
import { type Store, StoreBehindError } from '../ports/store.ts';

export type Readiness =
  | { ready: true }
  | { ready: false; code: 'store_behind'; pending: string[]; error: Error }
  | { ready: false; code: 'store_unreachable'; error: Error };

export async function storeReadiness(store: Pick<Store, 'ready'>): Promise<Readiness> {
  try {
    await store.ready();
    return { ready: true };
  } catch (err) {
    if (err instanceof StoreBehindError)
      return { ready: false, code: 'store_behind', pending: err.pending, error: err };
    return { ready: false, code: 'store_unreachable', error: err as Error };
  }
}
