// `store copy --from URL --to URL`: move an installation to another store (e.g. SQLite → PostgreSQL) and say
// what was copied, in one line. The URLs name the stores; no config file is read.
import { openStore, StoreMissing, sameStore } from '../../adapters/open-store.ts';
import { hidePassword, scrubPasswords } from '../../core/url-password.ts';
import { systemClock } from '../../ports/clock.ts';
import { type CopyCount, copyStore, StoreCopyRefused } from '../../services/store-copy.ts';
import { CliError, out } from '../io.ts';

const STORE_URL = /^(sqlite:.|postgres:\/\/|postgresql:\/\/)/;

export async function storeCommand(flags: { from?: string; to?: string }): Promise<number> {
  // Both are required options (spec.ts): the parser has already refused a call without them.
  const from = flags.from ?? '';
  const to = flags.to ?? '';
  // Passwords in the URLs never reach the terminal, and so never a log that captures it.
  const shown = hidePassword;
  const scrub = (err: unknown) => scrubPasswords((err as Error)?.message ?? String(err), [from, to]);
  for (const [flag, url] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (url === 'sqlite::memory:')
      throw new CliError(
        `${flag} sqlite::memory: ends with the command: name a file (sqlite:PATH) or postgres://…`,
      );
    if (!STORE_URL.test(url))
      throw new CliError(`${flag} ${shown(url)} is not a store URL: use sqlite:PATH or postgres://…`);
  }
  if (sameStore(from, to)) throw new CliError(`--from and --to name the same store (${shown(from)})`);

  const open = (url: string, side: string, opts: { migrate?: boolean; existing?: boolean }) =>
    openStore(url, systemClock, opts).catch((err: unknown) => {
      if (err instanceof StoreMissing) throw new CliError(`the ${side} store ${shown(url)}: ${scrub(err)}`);
      throw new CliError(`cannot open the ${side} store ${shown(url)}: ${scrub(err)}`, 2);
    });
  let counts: CopyCount[];
  try {
    counts = await copyStore({
      // The source is read as it is, never migrated or created: a copy leaves it exactly as it was.
      openSource: () => open(from, 'source', { migrate: false, existing: true }),
      openTarget: () => open(to, 'target', {}),
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof StoreCopyRefused) throw new CliError(scrub(err));
    throw new CliError(`store copy failed, nothing was copied: ${scrub(err)}`, 2);
  }
  const copied = counts.map((c) => `${c.rows} ${c.rows === 1 ? c.one : c.many}`).join(', ');
  out(
    `copied ${copied} from ${shown(from)} to ${shown(to)}; ` +
      'point [store] url at the new store, keep the same server secret, and restart',
  );
  return 0;
}
