// The rules for names, addresses, passwords and claim lists, and creating a user row; the account use cases
// built on them are in services/accounts/.

import { CLAIM, NAME } from '../core/names.ts';
import type { Store, User } from '../ports/store.ts';
import { StoreConflictError } from '../ports/store.ts';
import { AccountError } from './accounts/actor.ts';
import { type PasswordContext, passwordProblem } from './password-policy.ts';

// A deliberately plain address: dot-atom local part and a host name. Quoted local parts, comments and
// brackets are legal in RFC 5322 but let one string mean another mailbox to a mail library ("a@x.com,b@y.com",
// "b<a@x.com>"): the address we store must be the one that receives the mail.
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** True for an address the gateway accepts (already canonical). */
export const isEmailAddress = (email: string) => email.length <= 254 && EMAIL.test(email);

/** Emails are compared in one canonical form: trimmed, NFKC-normalized, lower-case. */
export function canonicalEmail(raw: string): string {
  return raw.trim().normalize('NFKC').toLowerCase();
}

/** Input that breaks a rule (a name's form, the password policy, a taken address). */
export class UserInputError extends AccountError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'UserInputError';
  }
}

export function checkUsername(name: string): string {
  if (!NAME.test(name))
    throw new UserInputError(
      `username "${name}" must be 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  return name;
}

export function checkEmail(raw: string): string {
  const email = canonicalEmail(raw);
  if (!isEmailAddress(email)) throw new UserInputError(`"${raw}" is not an email address`);
  return email;
}

export async function createUser(
  store: Store,
  input: { username: string; email: string; emailVerified: boolean; admin?: boolean; passwordHash?: string },
): Promise<User> {
  const username = checkUsername(input.username);
  const email = checkEmail(input.email);
  let user: User;
  try {
    user = await store.users.create({
      username,
      email,
      emailVerified: input.emailVerified,
      roles: input.admin ? ['admin'] : [],
      ...(input.passwordHash ? { passwordHash: input.passwordHash } : {}),
    });
  } catch (err) {
    if (err instanceof StoreConflictError)
      throw new UserInputError(
        err.field === 'email' ? `email ${email} is already used` : `username ${username} is already taken`,
      );
    throw err;
  }
  return user;
}

/** Throws the policy's one-line reason when the password is refused. */
export function checkPassword(password: string, ctx: PasswordContext): void {
  const problem = passwordProblem(password, ctx);
  if (problem) throw new UserInputError(problem);
}

/** "a,b" → ["a","b"], each a valid claim name (see checkClaims). */
export function checkClaimList(text: string): string[] {
  return checkClaims(text.split(','));
}

/** Claim names trimmed, deduplicated and sorted; throws on one that is not a claim name. */
export function checkClaims(names: readonly string[]): string[] {
  const claims = [...new Set(names.map((c) => c.trim()).filter(Boolean))];
  for (const c of claims)
    if (!CLAIM.test(c)) throw new UserInputError(`"${c}" is not a claim name like "wiki.read"`);
  return claims.sort();
}
