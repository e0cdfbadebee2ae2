// `keys list|rotate|remove`: the keys that sign X-Hero-Assertion, kept in the store and shared by every instance.
import { SigningKeyRefused } from '../../services/signing-key-admin.ts';
import { SigningKeySecretError } from '../../services/signing-key-seal.ts';
import { KEY_REFRESH_MS } from '../../services/signing-keys.ts';
import { withAccounts } from '../context.ts';
import { CliError, formatTime, out, table } from '../io.ts';

const REFRESH_S = KEY_REFRESH_MS / 1000;

export async function keysCommand(
  action: string | undefined,
  args: string[],
  flags: { config?: string },
): Promise<number> {
  if (action === 'remove' && !args[0]) throw new CliError('usage: hero-gateway keys remove KID');
  return withAccounts(flags.config, async ({ signingKeys }) => {
    try {
      switch (action) {
        case 'list': {
          const keys = await signingKeys.list();
          if (keys.length === 0) {
            out('no signing keys yet: serve makes the first one at start');
            return 0;
          }
          const rows = keys.map((k) => [
            k.kid,
            k.status,
            formatTime(k.createdAt),
            formatTime(k.activeFrom),
            formatTime(k.removableFrom),
          ]);
          out(table(['kid', 'status', 'created', 'signs from', 'removable from'], rows));
          return 0;
        }
        case 'rotate': {
          const { added, current } = await signingKeys.rotate();
          out(
            `added signing key ${added.kid}: every instance publishes it within ${REFRESH_S} s, and it signs from ` +
              `${formatTime(added.activeFrom)}; ${current.kid} stays published until you run ` +
              `"hero-gateway keys remove ${current.kid}" (accepted from ${formatTime(current.removableFrom)})`,
          );
          return 0;
        }
        case 'remove': {
          const removed = await signingKeys.remove(args[0] as string);
          out(
            `removed signing key ${removed.kid}; running instances stop publishing it within ${REFRESH_S} s`,
          );
          return 0;
        }
        default:
          throw new CliError(`unknown keys action "${action}"; use list, rotate or remove`);
      }
    } catch (err) {
      if (err instanceof SigningKeyRefused) throw new CliError(err.message);
      if (err instanceof SigningKeySecretError) throw new CliError(err.message, 2);
      throw err;
    }
  });
}
