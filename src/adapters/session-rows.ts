// The session row, its column list and its mapper, shared by the SQLite and PostgreSQL adapters.
import type { Session } from '../ports/store.ts';

/**
 * Aliased `s_*` to stay apart from a joined user's columns (user-rows.ts). PostgreSQL's bigint instants
 * arrive as numbers (postgres/db.ts), as SQLite's do.
 */
export interface SessionRow {
  s_id: string;
  s_user_id: string;
  s_auth_method: string;
  s_second_factor: string | null;
  s_created_at: number;
  s_last_seen_at: number;
  s_idle_expires_at: number;
  s_absolute_expires_at: number;
  s_revoked_at: number | null;
  s_ip: string | null;
  s_user_agent: string | null;
}

// Lower-case aliases only: PostgreSQL folds unquoted names to lower case, so these read back the same in both
// dialects unquoted (unlike `sealedTokens`, which each adapter's OIDC query aliases in its own way).
export const SESSION_COLUMNS = `s.id AS s_id, s.user_id AS s_user_id, s.auth_method AS s_auth_method,
  s.second_factor AS s_second_factor,  s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, s.idle_expires_at AS s_idle_expires_at,
  s.absolute_expires_at AS s_absolute_expires_at, s.revoked_at AS s_revoked_at, s.ip AS s_ip,
  s.user_agent AS s_user_agent`;

export function toSession(r: SessionRow): Session {
  return {
    id: r.s_id,
    userId: r.s_user_id,
    authMethod: r.s_auth_method,
    secondFactor: r.s_second_factor,
    createdAt: r.s_created_at,
    lastSeenAt: r.s_last_seen_at,
    idleExpiresAt: r.s_idle_expires_at,
    absoluteExpiresAt: r.s_absolute_expires_at,
    revokedAt: r.s_revoked_at,
    ip: r.s_ip,
    userAgent: r.s_user_agent,
  };
}
