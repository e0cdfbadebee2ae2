// Who a request is from, once an auth mode has vouched for it. Not signed in is `null`, never an exception.
import type { User } from '../ports/store.ts';
import type { SecondFactorMethod } from './amr.ts';

export type AuthMethod = 'bearer' | 'password' | 'magic_link' | 'passkey' | `oidc:${string}`;

export interface Principal {
  user: User;
  method: AuthMethod;
  /** The second factor the session's sign-in passed (core/amr.ts); null for one factor and for API tokens. */
  secondFactor: SecondFactorMethod | null;
  /** For API tokens: the subset of the owner's claims the token may use; null = all. */
  claimLimit: readonly string[] | null;
}
