// What the auth pages need, handed in by the composition root.
import type { SigningKey } from '../../crypto/keys.ts';
import type { Sealer } from '../../crypto/sealed.ts';
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { ApiTokenService } from '../../services/api-tokens.ts';
import type { AuthzFreshness } from '../../services/authz-freshness.ts';
import type { ClaimResolver } from '../../services/claims.ts';
import type { EmailAccounts } from '../../services/email-accounts.ts';
import type { PasswordLogin } from '../../services/login.ts';
import type { OidcLogin } from '../../services/oidc-login.ts';
import type { OidcProviders } from '../../services/oidc-providers.ts';
import type { SessionService } from '../../services/sessions.ts';
import type { FirstRunSetup } from '../../services/setup.ts';
import type { MailThrottle, MemoryThrottle } from '../../services/throttle.ts';

export interface PagesDeps {
  store: Store;
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
  /** Seals a new API token between the create POST and the GET that shows it once (pages/token-flash.ts). */
  flashSealer: Sealer;
  accounts: EmailAccounts;
  apiTokens: ApiTokenService;
  mailThrottle: MailThrottle;
  oidc: { providers: OidcProviders; login: OidcLogin; starts: MemoryThrottle };
  /** Counts sign-in attempts by method and outcome. */
  signInMetric: (method: string, outcome: 'ok' | 'failed' | 'throttled' | 'unverified') => void;
  /** The public keys of X-Hero-Assertion. */
  jwks: () => { keys: object[] };
}
