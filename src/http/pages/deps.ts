// Everything the auth pages may use, handed in by the composition root. No page takes all of it: each page
// module declares the few members it uses (a Pick of this), so what a page can reach is visible at its top.
// The store is not here: pages change accounts only through the use cases in services/.
import type { SigningKey } from '../../crypto/keys.ts';
import type { Sealer } from '../../crypto/sealed.ts';
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Accounts } from '../../services/accounts/index.ts';
import type { AuthzFreshness } from '../../services/authz-freshness.ts';
import type { ClaimResolver } from '../../services/claims.ts';
import type { EmailAccounts } from '../../services/email-accounts.ts';
import type { FirstPassword } from '../../services/first-password.ts';
import type { PasswordLogin } from '../../services/login.ts';
import type { OidcLogin } from '../../services/oidc-login.ts';
import type { OidcProviders } from '../../services/oidc-providers.ts';
import type { StoreAvailability } from '../../services/readiness.ts';
import type { OwnFactors } from '../../services/second-factor/own-factors.ts';
import type { Passkeys } from '../../services/second-factor/passkeys.ts';
import type { RecoveryCodes } from '../../services/second-factor/recovery-codes.ts';
import type { SecondFactorSignIn } from '../../services/second-factor/sign-in.ts';
import type { TotpFactors } from '../../services/second-factor/totp.ts';
import type { SessionService } from '../../services/sessions.ts';
import type { FirstRunSetup } from '../../services/setup.ts';
import type { MailThrottle, MemoryThrottle } from '../../services/throttle.ts';

export interface PagesDeps {
  clock: Clock;
  sessions: SessionService;
  login: PasswordLogin;
  setup: FirstRunSetup;
  claims: ClaimResolver;
  freshness: AuthzFreshness;
  audit: AuditLog;
  csrfKey: SigningKey;
  deviceKey: SigningKey;
  /** Signs the password-proof cookie (this browser set or proved an unconfirmed account's password). */
  proofKey: SigningKey;
  /** Signs the recent-proof cookie (pages/recent-proof.ts). */
  recentProofKey: SigningKey;
  /** Seals a new API token between the create POST and the GET that shows it once (pages/token-flash.ts). */
  flashSealer: Sealer;
  /** Account changes from the account page: password, sessions, tokens (each checked and audited there). */
  accounts: Accounts;
  /** The flows a mailed link starts or ends: registration, reset, sign-in links, invites, confirmation. */
  emailFlows: EmailAccounts;
  firstPassword: FirstPassword;
  mailThrottle: MailThrottle;
  oidc: { providers: OidcProviders; login: OidcLogin; starts: MemoryThrottle };
  /** Counts sign-in attempts by method and outcome. */
  signInMetric: (method: string, outcome: 'ok' | 'failed' | 'throttled' | 'unverified') => void;
  /** Counts second factors added and second-factor answers. */
  secondFactorMetrics: {
    enrolled(kind: 'totp' | 'webauthn'): void;
    challenge(factor: string, outcome: 'ok' | 'failed' | 'throttled'): void;
  };
  /** The public keys of X-Hero-Assertion. */
  jwks: () => { keys: object[] };
  /** The second step of a sign-in: whether one is needed, the held sign-in, checking codes and passkeys. */
  secondFactors: SecondFactorSignIn;
  /** Setting up and checking second factors: authenticator apps, passkeys, recovery codes. */
  totp: TotpFactors;
  passkeys: Passkeys;
  recoveryCodes: RecoveryCodes;
  /** A person's own changes to their factors (account → sign-in security, and enrolment at sign-in). */
  ownFactors: OwnFactors;
  /** Whether the store answers (the sign-in page says so when it does not). */
  availability: StoreAvailability;
}
