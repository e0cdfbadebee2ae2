// `migrate`: apply pending store migrations and say which.

import { hidePassword } from '../../core/url-password.ts';
import { withAccounts } from '../context.ts';
import { note, out } from '../io.ts';

export async function migrateCommand(flag: string | undefined): Promise<number> {
  return withAccounts(
    flag,
    async ({ config, migrations }) => {
      const before = await migrations.state();
      if (before.pending.length === 0) {
        out(`${hidePassword(config.store.url)}: up to date (${before.applied.length} migration(s) applied)`);
        return 0;
      }
      note(`applying ${before.pending.length} migration(s) to ${hidePassword(config.store.url)}…`);
      const applied = await migrations.apply();
      for (const name of applied) out(`applied ${name}`);
      return 0;
    },
    { migrate: false },
  );
}
