// Which gateway account an identity-provider sign-in belongs to: an identity linked before, an existing user
// with the same address (only when the provider vouches for it and the operator allows it), or a new account
// (auto_provision or open registration). And the groups the provider asserts, refreshed at every sign-in.
import { LABEL, NAME } from '../core/names.ts';
import { randomSecret } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import { type OwnershipReset, type Store, StoreConflictError, type User } from '../ports/store.ts';
import type { OidcConfig } from './oidc-providers.ts';
import { canonicalEmail, isEmailAddress } from './users.ts';

export type AccountOutcome =
  /** `reset`: linking took over an account nobody had confirmed, and this is what it removed. */
  | { kind: 'ok'; user: User; created: boolean; linked: boolean; reset: OwnershipReset | null }
  /**
   * The identity is known to nobody and may not create an account (or cannot: no usable address, or one the
   * provider has not verified).
   */
  | { kind: 'no_account'; reason: 'not_linked' | 'email_missing' | 'email_taken' | 'email_unverified' }
  | { kind: 'disabled'; user: User };

export interface ProviderIdentity {
  provider: OidcConfig;
  issuer: string;
  claims: Readonly<Record<string, unknown>> & { sub: string };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The address the provider gave, canonical, or null when it gave none we would accept. */
export function claimedEmail(claims: Readonly<Record<string, unknown>>): string | null {
  const raw = str(claims.email);
  if (raw === null) return null;
  const email = canonicalEmail(raw);
  return isEmailAddress(email) ? email : null;
}

/** Group names from the configured claim: a list (or one string) of names the gateway can hold. */
export function claimedGroups(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  const v = claims[claim];
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return [...new Set(list.filter((g): g is string => typeof g === 'string' && LABEL.test(g)))];
}

/** Usernames to try for a new account, best first: the provider's preferred one, then the address's local part. */
export function usernameCandidates(claims: Readonly<Record<string, unknown>>, email: string): string[] {
  const out: string[] = [];
  const preferred = str(claims.preferred_username)?.toLowerCase();
  if (preferred && NAME.test(preferred)) out.push(preferred);
  const local = (email.split('@')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 56);
  const base = local && NAME.test(local) ? local : 'user';
  if (!out.includes(base)) out.push(base);
  for (let n = 2; n <= 9; n++) out.push(`${base}${n}`);
  // Last resort, practically never taken.
  out.push(
    `${base.slice(0, 48)}-${randomSecret(6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`,
  );
  return out;
}

export class OidcAccounts {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  async resolve(id: ProviderIdentity, registrationOpen: boolean): Promise<AccountOutcome> {
    const { provider, issuer, claims } = id;
    // The account is the (issuer, subject) pair: subjects are unique only within one issuer, and an address
    // can change owner at a provider, so neither the subject alone nor the email identifies anyone.
    const known = await this.#store.oidcIdentities.find(issuer, claims.sub);
    const email = claimedEmail(claims);
    if (known) {
      if (known.user.disabledAt !== null) return { kind: 'disabled', user: known.user };
      await this.#store.oidcIdentities.recordLogin(issuer, claims.sub, email, this.#clock.now());
      return { kind: 'ok', user: known.user, created: false, linked: false, reset: null };
    }
    const identity = { provider: provider.id, issuer, subject: claims.sub, email };
    const mayLink = provider.link_by_verified_email;
    const mayCreate = provider.auto_provision || registrationOpen;
    // An address the provider has not verified (strictly the boolean true) is anyone's to type: it neither
    // creates an account under that address nor links to one. Decided before the address is looked up, so
    // the answer is the same whether or not an account has it.
    if (email !== null && claims.email_verified !== true && (mayLink || mayCreate))
      return { kind: 'no_account', reason: 'email_unverified' };
    const existing = email ? await this.#store.users.byEmail(email) : null;
    if (existing) {
      // Linking hands the existing account to whoever controls this provider account: only when the operator
      // trusts the provider for it (and, above, the provider verified the address).
      if (!mayLink) return { kind: 'no_account', reason: 'email_taken' };
      if (existing.disabledAt !== null) return { kind: 'disabled', user: existing };
      if (!(await this.#store.oidcIdentities.link({ ...identity, userId: existing.id })))
        return this.resolve(id, registrationOpen); // linked by a concurrent sign-in meanwhile
      // Pre-account takeover: someone may have registered this address with a password, or linked a provider
      // that vouches for no address, before its owner arrived. The owner has now proved the address through
      // this provider; everything set on the account by someone who never did goes, and only this link stays.
      const reset =
        existing.emailVerifiedAt === null
          ? await this.#store.users.resetOwnership(existing.id, this.#clock.now(), {
              issuer,
              subject: claims.sub,
            })
          : null;
      await this.#store.oidcIdentities.recordLogin(issuer, claims.sub, email, this.#clock.now());
      const user = (await this.#store.users.byId(existing.id)) ?? existing;
      return { kind: 'ok', user, created: false, linked: true, reset };
    }
    if (!mayCreate) return { kind: 'no_account', reason: 'not_linked' };
    if (email === null) return { kind: 'no_account', reason: 'email_missing' };
    for (const username of usernameCandidates(claims, email)) {
      if (await this.#store.users.byUsername(username)) continue;
      try {
        const user = await this.#store.users.create({
          username,
          email,
          emailVerified: true, // checked above: only verified addresses get here
          oidcIdentity: identity,
        });
        await this.#store.oidcIdentities.recordLogin(issuer, claims.sub, email, this.#clock.now());
        return { kind: 'ok', user, created: true, linked: false, reset: null };
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
        if (err.field === 'email') return { kind: 'no_account', reason: 'email_taken' };
        if (err.field === 'oidc_identity') return this.resolve(id, registrationOpen);
        // username taken meanwhile: try the next one
      }
    }
    throw new Error('no free username for a new account');
  }

  /** Makes the user's groups from this provider exactly what it asserts now (none when the claim is absent). */
  async syncGroups(
    user: User,
    provider: OidcConfig,
    claims: Readonly<Record<string, unknown>>,
  ): Promise<string[]> {
    if (!provider.groups_claim) return [];
    const groups = claimedGroups(claims, provider.groups_claim);
    await this.#store.authz.syncMembers(user.id, `oidc:${provider.id}`, groups);
    return groups;
  }
}
