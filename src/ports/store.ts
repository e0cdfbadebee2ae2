// The store port: what the gateway needs from persistence, with no trace of which database backs it.
// Every backend implements this and passes the same conformance suite (test/store/conformance.ts).

import type {
  ApiToken,
  ClaimGrant,
  Grant,
  GrantSubject,
  MigrationState,
  OidcIdentity,
  OidcIdentityKey,
  OwnershipReset,
  Role,
  Session,
  SessionOidc,
  User,
} from '../core/records.ts';

import type { AuthzVersions } from './authz-versions.ts';
import type { SecondFactorStore } from './second-factors.ts';
import type { StoreTransfer } from './store-transfer.ts';

// Every layer's records; the store's interfaces below are written in them.
export type * from '../core/records.ts';
export type * from './second-factors.ts';
export { type StoreFault, StoreUnavailableError } from './store-fault.ts';

export interface NewUser {
  username: string;
  /** Already canonical (trimmed, NFKC, lower-case). */
  email: string;
  emailVerified: boolean;
  /** Roles granted globally in the same transaction (e.g. ["admin"]). */
  roles?: string[];
  /** argon2id PHC string stored in the same transaction. */
  passwordHash?: string;
  /** An identity-provider account linked in the same transaction (sign-up through OpenID Connect). */
  oidcIdentity?: Omit<NewOidcIdentity, 'userId'>;
}

export interface UserStore {
  /** Throws StoreConflictError when the username or email is taken. */
  create(user: NewUser): Promise<User>;
  byId(id: string): Promise<User | null>;
  byUsername(username: string): Promise<User | null>;
  byEmail(email: string): Promise<User | null>;
  list(): Promise<User[]>;
  count(): Promise<number>;
  /**
   * `at` = null enables. Disabling also ends every session of the user and voids their unused reset, invite
   * and sign-in links. Returns false when no such user.
   */
  setDisabled(id: string, at: number | null): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /**
   * Stores a new password hash. A `rehash` (same password, stronger parameters) does not count as a change;
   * a change voids the user's unused reset, invite and sign-in links. `endSessions` revokes the user's
   * sessions (but `except`) in the same transaction. Returns how many usable sessions that ended.
   */
  setPasswordHash(
    id: string,
    hash: string,
    opts?: { rehash?: boolean; endSessions?: { now: number; except?: string } },
  ): Promise<number>;
  passwordHash(id: string): Promise<string | null>;
  /**
   * Hands the account to whoever just proved its address, in one transaction: removes the password, every
   * identity-provider link (but `keep`, the one proving the address now), the group memberships providers
   * asserted, every session, every API token and the unused reset, invite and sign-in links, and marks the
   * address confirmed. For an account whose credentials were set while nobody had proved the address (anyone
   * can register any address), when its owner arrives without knowing them. Returns what was removed.
   */
  resetOwnership(id: string, now: number, keep?: OidcIdentityKey): Promise<OwnershipReset>;
  recordLogin(id: string, now: number): Promise<void>;
  /**
   * Changes the address (canonical). An operator vouches for it, so it counts as confirmed; links mailed to
   * the old address stop working. Throws StoreConflictError when another user has it.
   */
  setEmail(id: string, email: string): Promise<void>;
  /** Marks the address confirmed (idempotent: an earlier confirmation time is kept). */
  markEmailVerified(id: string, now: number): Promise<void>;
}

export interface NewSession {
  tokenHash: string;
  userId: string;
  authMethod: string;
  /** The second factor the sign-in passed (core/amr.ts); absent or null when none. */
  secondFactor?: string | null;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  ip: string | null;
  userAgent: string | null;
  /** For a sign-in through an identity provider: what back-channel logout and RP logout need later. */
  oidc?: SessionOidc;
}

/** Which sessions a back-channel logout token names: one provider, and its subject and/or its session id. */
export interface OidcSessionSelector {
  provider: string;
  subject: string | null;
  sid: string | null;
  /** Only sessions started at or before this instant (a replayed old token cannot end newer sessions). */
  startedBefore: number;
}

export interface SessionStore {
  create(session: NewSession): Promise<Session>;
  /** The session and its user, only if not revoked, not past either expiry at `now`, and the user exists. */
  findActive(tokenHash: string, now: number): Promise<{ session: Session; user: User } | null>;
  /** Sliding renewal: records activity and the new idle expiry, unless the last record is newer than `minIntervalMs`. */
  touch(id: string, now: number, idleExpiresAt: number, minIntervalMs: number): Promise<void>;
  /** Whose session this is (any state), or null. */
  ownerOf(id: string): Promise<string | null>;
  /** How many sessions of anyone are still usable at `now`. */
  countActive(now: number): Promise<number>;
  /** A user's sessions that are still usable at `now`, newest first. */
  listActive(userId: string, now: number): Promise<Session[]>;
  /** Ends one session; with `userId`, only if it belongs to that user. False when nothing was ended. */
  revoke(id: string, now: number, userId?: string): Promise<boolean>;
  /** Ends every session of the user except `exceptId`; returns how many of them were still usable at `now`. */
  revokeAllForUser(userId: string, now: number, exceptId?: string): Promise<number>;
  /** Removes sessions that can never be used again (expired or revoked before `before`). */
  deleteExpired(now: number, before: number): Promise<number>;
  /** The identity-provider facts of a session (any state), or null for sessions not started through one. */
  oidcOf(id: string): Promise<SessionOidc | null>;
  /** Ends the unrevoked sessions a provider's logout names; returns how many. */
  revokeOidc(selector: OidcSessionSelector, now: number): Promise<number>;
}

export interface ThrottleState {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export interface ThrottleCharge {
  key: string;
  /** The counter after this attempt, from the stored one (null: none yet). */
  next: (prev: ThrottleState | null) => ThrottleState;
}

export interface ThrottleStore {
  get(keys: readonly string[]): Promise<Map<string, ThrottleState>>;
  /**
   * In one transaction: if any key is blocked at `now`, changes nothing and returns the longest wait in ms;
   * otherwise applies every charge and returns 0. Concurrent attempts are serialized here, so a burst
   * cannot slip past the limit while earlier attempts are still being checked.
   */
  charge(charges: readonly ThrottleCharge[], now: number): Promise<number>;
  /** Changes one counter atomically. */
  update(key: string, next: (prev: ThrottleState | null) => ThrottleState): Promise<ThrottleState>;
  clear(keys: readonly string[]): Promise<void>;
  /** Forgets counters that block nothing and saw no failure since `before`. */
  purge(now: number, before: number): Promise<number>;
}

/** Purposes of the links the gateway mails or prints. */
export type LinkPurpose = 'verify_email' | 'reset_password' | 'magic_login' | 'invite' | 'setup';
/**
 * All single-use values: links, plus the state of an OpenID Connect sign-in in progress (`oidc_state`), the
 * ids of back-channel logout tokens already acted on (`oidc_logout`), a sign-in waiting for its second factor
 * (`mfa_pending`) and a WebAuthn challenge handed to a browser (`webauthn_challenge`).
 */
export type OneTimePurpose =
  | LinkPurpose
  | 'oidc_state'
  | 'oidc_logout'
  | 'mfa_pending'
  | 'webauthn_challenge';

export interface OneTimeToken {
  purpose: OneTimePurpose;
  userId: string | null;
  email: string | null;
  payload: Record<string, unknown> | null;
  createdAt: number;
  expiresAt: number;
}

export interface NewOneTimeToken {
  tokenHash: string;
  purpose: OneTimePurpose;
  userId: string | null;
  email: string | null;
  payload: Record<string, unknown> | null;
  expiresAt: number;
}

export interface NewQueuedMail {
  recipient: string;
  /** Which template renders it at send time. */
  template: string;
  /** The template's data, sealed (it may hold a link with a one-time token). */
  payload: string;
}

export interface QueuedMail extends NewQueuedMail {
  id: string;
  attempts: number;
  createdAt: number;
}

export interface MailOutboxStore {
  enqueue(mail: NewQueuedMail): Promise<void>;
  /**
   * Up to `limit` unsent mails that are due, leased to the caller until `now + leaseMs` so that no other
   * sender (another worker) takes them meanwhile.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<QueuedMail[]>;
  /**
   * Extends a lease its sender still holds, to `until`: only while the mail is unsent and leased until exactly
   * `heldUntil` (what the claim or the last renewal set), so a sender whose lease lapsed and was claimed by
   * another learns it (false) instead of extending the other's.
   */
  renewLease(id: string, heldUntil: number, until: number): Promise<boolean>;
  /** Delivered: never sent again; the sealed payload is dropped. */
  markSent(id: string, now: number): Promise<void>;
  /**
   * Not delivered: try again at `nextAttemptAt`. With `heldUntil`, only while the lease is still the one the
   * sender holds: a sender whose lease lapsed and was taken over changes nothing (it would free the other's).
   */
  markFailed(id: string, nextAttemptAt: number, error: string, heldUntil?: number): Promise<void>;
  /** Mails not yet delivered. */
  depth(): Promise<number>;
  /** Forgets mails delivered before `before`, and undelivered ones queued a week before that. */
  purge(before: number): Promise<number>;
}

export interface OneTimeTokenStore {
  /** Throws StoreConflictError when the hash is already stored (a value seen before). */
  create(token: NewOneTimeToken): Promise<void>;
  /**
   * In one transaction: drops the unconsumed tokens of the same purpose for the same user (or, without a user,
   * the same email), stores the new one, and queues its mail, so a token never exists without its mail.
   */
  issue(token: NewOneTimeToken, mail: NewQueuedMail | null): Promise<void>;
  /** The token if unconsumed and unexpired, without using it up (confirm pages). */
  peek(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<OneTimeToken | null>;
  /** Uses the token up: of any number of concurrent callers exactly one gets it, the others null. */
  consume(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<OneTimeToken | null>;
  /**
   * For a purpose of which only one token may be live at a time (the first-run setup link): in one transaction,
   * serialized against concurrent callers (instances starting together), returns the token of that purpose
   * that is unconsumed and unexpired at `now` if there is one; otherwise deletes the purpose's dead tokens,
   * stores `token` and returns it. `issued` says which happened.
   */
  issueIfNone(
    token: NewOneTimeToken,
    now: number,
  ): Promise<{ tokenHash: string; token: OneTimeToken; issued: boolean }>;
  /** Deletes every token of a purpose (for one user, when given); returns how many. */
  deletePurpose(purpose: OneTimePurpose, userId?: string): Promise<number>;
  /** Deletes tokens that expired or were used before `before`. */
  purge(before: number): Promise<number>;
}

export interface NewApiToken {
  tokenHash: string;
  userId: string;
  name: string;
  claims: string[] | null;
  expiresAt: number | null;
}

export interface ApiTokenStore {
  create(token: NewApiToken): Promise<ApiToken>;
  /** The token and its owner, only if neither revoked nor expired at `now`, and the owner exists. */
  findUsable(tokenHash: string, now: number): Promise<{ token: ApiToken; user: User } | null>;
  list(userId?: string): Promise<ApiToken[]>;
  byId(id: string): Promise<ApiToken | null>;
  revoke(id: string, now: number): Promise<boolean>;
  /** Record use, but write only when the last record is older than `minIntervalMs`. */
  touch(id: string, now: number, minIntervalMs: number): Promise<void>;
}

export interface AuthzStore {
  /** Changes whenever users, groups, memberships, roles, grants or token revocations change, in any process. */
  version(): Promise<number>;
  /**
   * The same version when the backend can give it without waiting (an embedded database, or a value pushed
   * to this process); absent otherwise. Lets the request path skip an asynchronous hop.
   */
  versionNow?(): number;
  claimGrants(userId: string): Promise<ClaimGrant[]>;
  setRole(name: string, claims: string[]): Promise<void>;
  listRoles(): Promise<Role[]>;
  roleExists(name: string): Promise<boolean>;
  /** Creates the group on first use. Returns false if already a member. */
  addMember(group: string, userId: string, source?: string): Promise<boolean>;
  removeMember(group: string, userId: string): Promise<boolean>;
  groupsOf(userId: string): Promise<string[]>;
  groupExists(group: string): Promise<boolean>;
  /**
   * Makes the user's memberships from `source` (e.g. "oidc:google") exactly `groups`, in one transaction:
   * memberships from that source not listed end, listed groups are joined (created on first use). A membership
   * the user holds from another source (an operator's) is neither removed nor taken over.
   */
  syncMembers(userId: string, source: string, groups: readonly string[]): Promise<void>;
  /** Returns false when the grant already existed. */
  grant(role: string, subject: GrantSubject, context: string): Promise<boolean>;
  revoke(role: string, subject: GrantSubject, context: string): Promise<boolean>;
  listGrants(): Promise<Grant[]>;
}

export interface NewOidcIdentity {
  /** The config id of the provider it came through (for display and group sources). */
  provider: string;
  issuer: string;
  subject: string;
  userId: string;
  email: string | null;
}

/** Accounts at identity providers, each (issuer, subject) linked to exactly one user. */
export interface OidcIdentityStore {
  /** The identity and its user, or null when nobody has linked it. */
  find(issuer: string, subject: string): Promise<{ identity: OidcIdentity; user: User } | null>;
  /** Links an identity to an existing user; false when (issuer, subject) is already linked to anyone. */
  link(identity: NewOidcIdentity): Promise<boolean>;
  /** Records a sign-in through the identity and the address the provider gave this time. */
  recordLogin(issuer: string, subject: string, email: string | null, now: number): Promise<void>;
  listForUser(userId: string): Promise<OidcIdentity[]>;
}

/** An assertion signing key as stored: its private half only sealed with a key derived from the server secret. */
export interface StoredSigningKey {
  kid: string;
  createdAt: number;
  /** From this instant on it may sign; it is published from the moment it is stored. */
  activeFrom: number;
  /** The public JWK (EC P-256: kty, crv, x, y). */
  publicJwk: Record<string, string>;
  /** The private JWK, sealed (AES-256-GCM); never stored in clear. */
  sealedPrivateJwk: string;
}

/** The keys every instance publishes in its JWKS and signs X-Hero-Assertion with. */
export interface SigningKeyStore {
  /** Every stored key, earliest activation first. */
  list(): Promise<StoredSigningKey[]>;
  /**
   * Stores `keys` only if the store holds no key at all, serialized against concurrent callers (instances
   * starting together on an empty store): of any number of them exactly one stores its keys. True if this did.
   */
  addIfEmpty(keys: readonly StoredSigningKey[]): Promise<boolean>;
  /** Throws StoreConflictError when the kid is taken. */
  add(key: StoredSigningKey): Promise<void>;
  /** False when no such key. */
  remove(kid: string): Promise<boolean>;
}

export interface Store {
  readonly users: UserStore;
  readonly apiTokens: ApiTokenStore;
  readonly authz: AuthzStore;
  readonly sessions: SessionStore;
  readonly throttles: ThrottleStore;
  readonly oneTimeTokens: OneTimeTokenStore;
  readonly outbox: MailOutboxStore;
  readonly oidcIdentities: OidcIdentityStore;
  readonly signingKeys: SigningKeyStore;
  readonly secondFactors: SecondFactorStore;
  /**
   * The authz version as the database pushes it to this process, for a backend that can (PostgreSQL's
   * LISTEN/NOTIFY); absent for one that can only be asked. Starts listening on the first call.
   */
  authzVersions?(): AuthzVersions;
  /** Resolves when the store answers and its schema is current; rejects otherwise. */
  ready(): Promise<void>;
  migrationState(): Promise<MigrationState>;
  /** Applies pending migrations; returns their names. */
  migrate(): Promise<string[]>;
  /** Whole tables out and in, for moving an installation to another store (`store copy`). */
  readonly transfer?: StoreTransfer;
  close(): Promise<void>;
}

/**
 * The store answers, but migrations this gateway needs are not applied yet (another instance is applying them,
 * or `migrate` was not run): readiness says so apart from an unreachable store.
 */
export class StoreBehindError extends Error {
  readonly pending: string[];
  constructor(pending: string[]) {
    super(`store has ${pending.length} pending migration(s): ${pending.join(', ')}`);
    this.name = 'StoreBehindError';
    this.pending = pending;
  }
}

/** A uniqueness rule was violated (username or email taken, duplicate token hash). */
export class StoreConflictError extends Error {
  readonly field: string;
  constructor(field: string) {
    super(`${field} is already taken`);
    this.name = 'StoreConflictError';
    this.field = field;
  }
}
