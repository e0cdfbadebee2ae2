// Config reload: the whole new file is validated and compiled first, then swapped in at once. Requests that
// already started finish on the snapshot they began with; a bad file changes nothing.
import type { Config, LoadResult } from '../config/load.ts';
import { compileSnapshot, type SnapshotHolder } from './snapshot.ts';

export type ReloadResult = { ok: true; restartNeeded: string[] } | { ok: false; problems: string[] };

/**
 * Something bound outside the snapshot that takes the new config too (the TLS listener's certificate). It is
 * prepared before the swap and may refuse the reload; it is applied only once every part has agreed.
 */
export interface ReloadPart {
  prepare(config: Config): { ok: true; apply(): void } | { ok: false; problems: string[] };
}

// Settings bound at start (sockets, files, registered endpoints, built adapters): a reload cannot move them.
const AT_START: [string, (c: Config) => unknown][] = [
  ['server.listen', (c) => c.server.listen],
  ['server.data_dir', (c) => c.server.data_dir],
  ['server.secret', (c) => c.server.secret],
  ['server.workers', (c) => c.server.workers],
  ['server.audit_log', (c) => c.server.audit_log],
  // A listener is http or https from its start; the files of a TLS listener are re-read on reload.
  ['server.tls_cert', (c) => c.server.tls_cert !== undefined],
  ['server.http_redirect', (c) => c.server.http_redirect],
  ['admin.listen', (c) => c.admin.listen],
  ['admin.hosts', (c) => c.admin.hosts.join(',')],
  ['store.url', (c) => c.store.url],
  ['mail.smtp_url', (c) => c.mail.smtp_url],
  ['mail.from', (c) => c.mail.from],
];

export function reloadConfig(
  holder: SnapshotHolder,
  load: () => LoadResult,
  parts: readonly ReloadPart[] = [],
): ReloadResult {
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
  const snapshot = compileSnapshot(loaded.config);
  const prepared = parts.map((p) => p.prepare(loaded.config));
  const problems = prepared.flatMap((p) => (p.ok ? [] : p.problems));
  if (problems.length > 0) return { ok: false, problems };
  holder.current = snapshot;
  for (const p of prepared) if (p.ok) p.apply();
  return { ok: true, restartNeeded };
}
