// Config reload: the whole new file is validated and compiled first, then swapped in at once. Requests that
// already started finish on the snapshot they began with; a bad file changes nothing.
import type { Config, LoadResult } from '../config/load.ts';
import { compileSnapshot, type SnapshotHolder } from './snapshot.ts';

export type ReloadResult = { ok: true; restartNeeded: string[] } | { ok: false; problems: string[] };

// Settings bound at start (sockets, files, registered endpoints, built adapters): a reload cannot move them.
const AT_START: [string, (c: Config) => unknown][] = [
  ['server.listen', (c) => c.server.listen],
  ['server.data_dir', (c) => c.server.data_dir],
  ['server.secret', (c) => c.server.secret],
  ['server.workers', (c) => c.server.workers],
  ['server.audit_log', (c) => c.server.audit_log],
  ['admin.listen', (c) => c.admin.listen],
  ['admin.hosts', (c) => c.admin.hosts.join(',')],
  ['store.url', (c) => c.store.url],
  ['mail.smtp_url', (c) => c.mail.smtp_url],
  ['mail.from', (c) => c.mail.from],
];

export function reloadConfig(holder: SnapshotHolder, load: () => LoadResult): ReloadResult {
  let loaded: LoadResult;
  try {
    loaded = load();
  } catch (err) {
    return { ok: false, problems: [`cannot read the config: ${(err as Error).message}`] };
  }
  if (!loaded.ok) return { ok: false, problems: loaded.problems };
  const before = holder.current.config;
  // The gateway's own endpoints are registered under the prefix: moving it would leave them behind.
  if (loaded.config.server.auth_prefix !== before.server.auth_prefix)
    return { ok: false, problems: ['server.auth_prefix: changing it needs a restart'] };
  const restartNeeded = AT_START.filter(([, get]) => get(loaded.config) !== get(before)).map(([key]) => key);
  holder.current = compileSnapshot(loaded.config);
  return { ok: true, restartNeeded };
}
