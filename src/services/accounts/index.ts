// The account use cases, built together over one store: what the account page, the admin API and the CLI
// call instead of the store.
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { ApiTokenService } from '../api-tokens.ts';
import { AccountAccess } from './access.ts';
import { AuthzAccounts } from './authz.ts';
import { AccountOverviews } from './overview.ts';
import { SecondFactorAccounts } from './second-factors.ts';
import { SessionAccounts } from './sessions.ts';
import { TokenAccounts } from './tokens.ts';
import { type AccountMail, UserAccounts } from './users.ts';

export interface Accounts {
  users: UserAccounts;
  sessions: SessionAccounts;
  tokens: TokenAccounts;
  authz: AuthzAccounts;
  overviews: AccountOverviews;
  secondFactors: SecondFactorAccounts;
}

export function buildAccounts(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  tokens: ApiTokenService;
  mail: AccountMail;
  passwordMinLength: () => number;
}): Accounts {
  const { store, clock, audit } = deps;
  const access = new AccountAccess(store);
  return {
    users: new UserAccounts({ ...deps, access }),
    sessions: new SessionAccounts({ store, clock, audit, access }),
    tokens: new TokenAccounts({ store, clock, audit, access, tokens: deps.tokens }),
    authz: new AuthzAccounts({ store, audit, access }),
    overviews: new AccountOverviews({ store, clock, access }),
    secondFactors: new SecondFactorAccounts({ store, audit, access }),
  };
}
