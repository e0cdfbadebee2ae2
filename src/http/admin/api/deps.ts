// What the admin API needs, handed in by the composition root.
import type { AuditLog } from '../../../ports/audit.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { Store, User } from '../../../ports/store.ts';
import type { ApiTokenService } from '../../../services/api-tokens.ts';
import type { AuthzFreshness } from '../../../services/authz-freshness.ts';
import type { ClaimResolver } from '../../../services/claims.ts';
import type { EmailAccounts } from '../../../services/email-accounts.ts';
import type { SessionService } from '../../../services/sessions.ts';
import type { ReloadResult } from '../../reload.ts';
import type { SnapshotHolder } from '../../snapshot.ts';

export interface AdminDeps {
  store: Store;
  clock: Clock;
  tokens: ApiTokenService;
  claims: ClaimResolver;
  freshness: AuthzFreshness;
  sessions: SessionService;
  accounts: EmailAccounts;
  audit: AuditLog;
  snapshots: SnapshotHolder;
  reload: () => ReloadResult;
}

/** A user as the API shows one: never a password hash, token or link. */
export function userView(u: User) {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    email_verified: u.emailVerifiedAt !== null,
    disabled: u.disabledAt !== null,
    created_at: new Date(u.createdAt).toISOString(),
    last_login_at: u.lastLoginAt === null ? null : new Date(u.lastLoginAt).toISOString(),
  };
}
