// A user row as both SQL stores return it (PostgreSQL's bigint instants are parsed to numbers, postgres/db.ts),
// and as the port describes it: shared by every adapter file that joins users, so none of them imports another's
// store (users.ts needs oidc-identities.ts, which needs these).
import type { User } from '../ports/store.ts';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  email_verified_at: number | null;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  password_changed_at: number | null;
}

export const USER_COLUMNS =
  'u.id, u.username, u.email, u.email_verified_at, u.disabled_at, u.created_at, u.updated_at, u.last_login_at, u.password_changed_at';

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    emailVerifiedAt: r.email_verified_at,
    disabledAt: r.disabled_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastLoginAt: r.last_login_at,
    passwordChangedAt: r.password_changed_at,
  };
}
