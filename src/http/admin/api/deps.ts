// What the admin API needs, handed in by the composition root.
import type { User } from '../../../core/records.ts';
import type { AuditLog } from '../../../ports/audit.ts';
import type { Accounts } from '../../../services/accounts/index.ts';
import type { ApiTokenService } from '../../../services/api-tokens.ts';
import type { AuthzFreshness } from '../../../services/authz-freshness.ts';
import type { ClaimResolver } from '../../../services/claims.ts';
import type { ReloadResult } from '../../reload.ts';
import type { SnapshotHolder } from '../../snapshot.ts';

export interface AdminDeps {
  /** Verifies the callers' API tokens. */
  tokens: ApiTokenService;
  claims: ClaimResolver;
  freshness: AuthzFreshness;
  /** Every change the API makes goes through these use cases. */
  accounts: Accounts;
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
