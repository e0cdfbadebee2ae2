// The scale run's population, bulk-loaded with SQL (INSERT … SELECT over generate_series) into the schema of
// migrations/postgres: users, and sessions spread over them whose tokens the bench can recompute. Session i's
// cookie token is base64url(SHA-256(seed ":" i)), 43 characters like the gateway's own (randomSecret), and its
// row holds, as the gateway stores it, only token_hash = hex SHA-256 of that token (src/crypto/tokens.ts).
//
// Times are spread so a purge has work to do: session i was last seen `ago_i` before now, ago_i spread evenly
// over [0, SPREAD), its idle expiry 12 h (the default idle_timeout) after that, its absolute one 7 days after it
// started, an hour before. Every session is live now; seen from a clock `purgeShift(share)` ahead, `share` of
// them have passed their idle expiry.
import { createHash } from 'node:crypto';
import type pg from 'pg';

const HOUR = 3_600_000;
const IDLE_MS = 12 * HOUR;
const ABSOLUTE_MS = 7 * 24 * HOUR;
/** How long before their last activity the sessions started. */
const AGE_AT_LAST_SEEN_MS = HOUR;
/** ago_i covers [0, SPREAD): the oldest session still has an hour of idle time left when the load runs. */
const SPREAD_S = 11 * 3600;
/** A multiplier coprime with SPREAD_S: (i × STEP) mod SPREAD_S visits every second of the spread evenly. */
const STEP = 7919;

export interface ScaleSize {
  users: number;
  sessions: number;
}

/** Session i's cookie token, as the SQL below derives it. */
export function scaleToken(seed: string, i: number): string {
  return createHash('sha256').update(`${seed}:${i}`).digest('base64url');
}

/** How far ahead a clock must be for `share` of the sessions to be past their idle expiry. */
export function purgeShift(share: number): number {
  return IDLE_MS - SPREAD_S * 1000 * (1 - share);
}

const USERS = `INSERT INTO users (id, username, email, email_verified_at, created_at, updated_at)
  SELECT 'usr_s' || i, 'scale' || i, 'scale' || i || '@example.com', $2::bigint, $2::bigint, $2::bigint
  FROM generate_series(1, $1::int) AS i`;

// The token in SQL: base64 without padding, made url-safe, is Node's base64url (32 bytes: no line breaks).
const TOKEN = `translate(rtrim(encode(sha256(convert_to($1::text || ':' || i, 'UTF8')), 'base64'), '='), '+/', '-_')`;
const SESSIONS = `INSERT INTO sessions (id, token_hash, user_id, auth_method, created_at, last_seen_at,
    idle_expires_at, absolute_expires_at)
  SELECT 'ses_s' || i, encode(sha256(convert_to(${TOKEN}, 'UTF8')), 'hex'), 'usr_s' || (1 + i % $2::int),
    'password', seen - $5::bigint, seen, seen + $4::bigint, seen - $5::bigint + $6::bigint
  FROM (SELECT i, $3::bigint - (i::bigint * ${STEP} % ${SPREAD_S}) * 1000 AS seen
        FROM generate_series(0, $7::int - 1) AS i) AS g`;

/**
 * Loads the users and sessions, then VACUUM ANALYZE: the tables as a settled database holds them (visibility
 * map set, planner statistics current), and no autovacuum of a million fresh rows during the measurement.
 */
export async function seedScale(
  client: pg.Client,
  size: ScaleSize,
  seed: string,
  now: number,
): Promise<void> {
  await client.query(USERS, [size.users, now]);
  await client.query(SESSIONS, [
    seed,
    size.users,
    now,
    IDLE_MS,
    AGE_AT_LAST_SEEN_MS,
    ABSOLUTE_MS,
    size.sessions,
  ]);
  await client.query('VACUUM ANALYZE users, sessions');
}
