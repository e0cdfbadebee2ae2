// The records the gateway keeps about people and their access, as every layer sees them. Plain data: the
// store port (ports/store.ts) persists them, services change them, http/ and cli/ show them.

export interface User {
  id: string;
  username: string;
  email: string;
  emailVerifiedAt: number | null;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  /** When the password was last set (not when it was merely rehashed); null when it never was. */
  passwordChangedAt: number | null;
}

/** What resetOwnership removed, for the audit log. */
export interface OwnershipReset {
  password: boolean;
  identities: number;
  groups: number;
  sessions: number;
  apiTokens: number;
  /** Second factors removed (recovery codes go with them): a squatter's app or key must not lock the owner out. */
  secondFactors: number;
}

export interface Session {
  id: string;
  userId: string;
  authMethod: string;
  /** The second factor the sign-in passed (core/amr.ts), or null. */
  secondFactor: string | null;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  ip: string | null;
  userAgent: string | null;
}

export interface SessionOidc {
  provider: string;
  subject: string;
  /** The provider's session id (`sid` claim), when it sends one. */
  sid: string | null;
  /** The provider's ID and refresh tokens, sealed (AES-256-GCM) by the caller; never stored in the clear. */
  sealedTokens: string | null;
}

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** Narrows the owner's claims; null = all of them. */
  claims: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** One claim a user holds through some grant, and where: context '' means everywhere. */
export interface ClaimGrant {
  context: string;
  claim: string;
}

export interface Role {
  name: string;
  builtin: boolean;
  claims: string[];
}

export type GrantSubject = { userId: string } | { group: string };

export interface Grant {
  role: string;
  username: string | null;
  group: string | null;
  context: string;
}

export interface OidcIdentity {
  provider: string;
  issuer: string;
  subject: string;
  userId: string;
  email: string | null;
  createdAt: number;
  lastLoginAt: number | null;
}

/** An identity-provider account: subjects are unique only within their issuer. */
export interface OidcIdentityKey {
  issuer: string;
  subject: string;
}

export interface MigrationState {
  applied: string[];
  pending: string[];
}
