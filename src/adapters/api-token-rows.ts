// The API token row, its column list and its mapper, shared by the SQLite and PostgreSQL adapters.
import type { ApiToken } from '../ports/store.ts';

/**
 * Aliased `t_*` to stay apart from a joined user's columns (user-rows.ts). PostgreSQL's bigint instants
 * arrive as numbers (postgres/db.ts), as SQLite's do.
 */
export interface TokenRow {
  t_id: string;
  t_user_id: string;
  t_name: string;
  /** A JSON array of claims, or NULL for all of the owner's. */
  t_claims: string | null;
  t_created_at: number;
  t_expires_at: number | null;
  t_last_used_at: number | null;
  t_revoked_at: number | null;
}

export const TOKEN_COLUMNS = `t.id AS t_id, t.user_id AS t_user_id, t.name AS t_name, t.claims AS t_claims,
  t.created_at AS t_created_at, t.expires_at AS t_expires_at, t.last_used_at AS t_last_used_at,
  t.revoked_at AS t_revoked_at`;

export function toToken(r: TokenRow): ApiToken {
  return {
    id: r.t_id,
    userId: r.t_user_id,
    name: r.t_name,
    // Parsed here in both dialects: `claims` is a text column in both schemas (not jsonb in PostgreSQL), so
    // each driver hands back the JSON string as the adapters wrote it.
    claims: r.t_claims === null ? null : (JSON.parse(r.t_claims) as string[]),
    createdAt: r.t_created_at,
    expiresAt: r.t_expires_at,
    lastUsedAt: r.t_last_used_at,
    revokedAt: r.t_revoked_at,
  };
}
