// The second-factor side of the gateway, built once: authenticator apps, passkeys, recovery codes, the second
// step of a sign-in, and a person's own changes to them.
import type { Config } from './config/load.ts';
import { SigningKey } from './crypto/keys.ts';
import { Sealer } from './crypto/sealed.ts';
import { relyingParty } from './http/auth/relying-party.ts';
import type { Snapshot } from './http/snapshot.ts';
import type { AuditLog } from './ports/audit.ts';
import type { Clock } from './ports/clock.ts';
import type { Store } from './ports/store.ts';
import type { ClaimResolver } from './services/claims.ts';
import type { OneTimeLinks } from './services/one-time-links.ts';
import { OwnFactors } from './services/second-factor/own-factors.ts';
import { Passkeys } from './services/second-factor/passkeys.ts';
import { RecoveryCodes } from './services/second-factor/recovery-codes.ts';
import { SecondFactorSignIn } from './services/second-factor/sign-in.ts';
import { TotpFactors } from './services/second-factor/totp.ts';

export function buildSecondFactors(deps: {
  store: Store;
  clock: Clock;
  secret: string;
  claims: ClaimResolver;
  links: OneTimeLinks;
  audit: AuditLog;
  snapshot: () => Snapshot;
}) {
  const { store, clock } = deps;
  const config = (): Config => deps.snapshot().config;
  const totp = new TotpFactors({
    store,
    clock,
    sealer: new Sealer(deps.secret, 'second-factor'),
    issuer: () => config().branding.title,
  });
  const recoveryCodes = new RecoveryCodes({ store, clock });
  const passkeys = new Passkeys({
    store,
    clock,
    rp: () => relyingParty(deps.snapshot().config, deps.snapshot().table),
    key: new SigningKey(deps.secret, 'webauthn-challenge'),
  });
  const signIn = new SecondFactorSignIn({
    store,
    clock,
    totp,
    recovery: recoveryCodes,
    passkeys,
    claims: deps.claims,
    links: deps.links,
    policy: () => config().accounts.second_factor,
  });
  const own = new OwnFactors({
    store,
    clock,
    links: deps.links,
    totp,
    passkeys,
    recovery: recoveryCodes,
    signIn,
    audit: deps.audit,
  });
  return { totp, recoveryCodes, passkeys, signIn, own };
}
