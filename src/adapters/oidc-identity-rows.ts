// The OIDC identity row, its column list and its mapper, shared by the SQLite and PostgreSQL adapters.
import type { OidcIdentity } from '../ports/store.ts';

/**
 * Aliased `i_*` to stay apart from a joined user's columns (user-rows.ts). PostgreSQL's bigint instants
 * arrive as numbers (postgres/db.ts), as SQLite's do.
 */
export interface IdentityRow {
  i_provider: string;
  i_issuer: string;
  i_subject: string;
  i_user_id: string;
  i_email: string | null;
  i_created_at: number;
  i_last_login_at: number | null;
}

export const IDENTITY_COLUMNS = `i.provider AS i_provider, i.issuer AS i_issuer, i.subject AS i_subject,
  i.user_id AS i_user_id, i.email AS i_email, i.created_at AS i_created_at, i.last_login_at AS i_last_login_at`;

export const toIdentity = (r: IdentityRow): OidcIdentity => ({
  provider: r.i_provider,
  issuer: r.i_issuer,
  subject: r.i_subject,
  userId: r.i_user_id,
  email: r.i_email,
  createdAt: r.i_created_at,
  lastLoginAt: r.i_last_login_at,
});
