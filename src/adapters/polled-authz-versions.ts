// The authz-version port for a store that can only be asked: one read of its version per request, answered
// synchronously when the store can (SQLite reads its version row in place, so the hot path never waits).
import type { AuthzVersions } from '../ports/authz-versions.ts';
import type { AuthzStore } from '../ports/store.ts';

export function polledAuthzVersions(authz: Pick<AuthzStore, 'version' | 'versionNow'>): AuthzVersions {
  const now = authz.versionNow?.bind(authz);
  return { current: now ?? (() => authz.version()) };
}
