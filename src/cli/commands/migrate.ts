// `migrate`: apply pending store migrations and say which.

import { withStore } from '../context.ts';
import { note, out } from '../io.ts';

export async function migrateCommand(flag: string | undefined): Promise<number> {
  return withStore(
    flag,
    async (store, config) => {
      const before = await store.migrationState();
      if (before.pending.length === 0) {
        out(`${config.store.url}: up to date (${before.applied.length} migration(s) applied)`);
        return 0;
      }
      note(`applying ${before.pending.length} migration(s) to ${config.store.url}…`);
      const applied = await store.migrate();
      for (const name of applied) out(`applied ${name}`);
      return 0;
    },
    { migrate: false },
  );
}
