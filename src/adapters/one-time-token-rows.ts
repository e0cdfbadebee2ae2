// A one-time token row as both SQL stores return it (instants as numbers, the payload as JSON text), and its mapper.
import type { OneTimePurpose, OneTimeToken } from '../ports/store.ts';

export interface OneTimeTokenRow {
  purpose: OneTimePurpose;
  user_id: string | null;
  email: string | null;
  payload: string | null;
  created_at: number;
  expires_at: number;
}

export const toToken = (r: OneTimeTokenRow): OneTimeToken => ({
  purpose: r.purpose,
  userId: r.user_id,
  email: r.email,
  payload: r.payload === null ? null : (JSON.parse(r.payload) as Record<string, unknown>),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export const ONE_TIME_TOKEN_COLUMNS = 'purpose, user_id, email, payload, created_at, expires_at';
