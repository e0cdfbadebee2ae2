// The password policy, the same for every way a password is set: length (no composition rules), not one of
// the most common passwords, not built from the account's own name. NFKC as at hashing, never truncated.
import { dictionary } from '@zxcvbn-ts/language-common';

export const MAX_PASSWORD_LENGTH = 1024;

let common: Set<string> | null = null;
// ~49k passwords seen most often in breaches (zxcvbn-ts list), loaded on first use.
const commonPasswords = () => {
  common ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return common;
};

export interface PasswordContext {
  minLength: number;
  username?: string;
  email?: string;
}

/** Why the password is refused, as one sentence for the user, or null when it is acceptable. */
export function passwordProblem(password: string, ctx: PasswordContext): string | null {
  // Lone surrogates cannot be typed, and encode to U+FFFD: a password of them would match others.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(password))
    return 'the password contains characters that are not text';
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  // Checked before anything else so an oversized input never reaches argon2.
  if (length > MAX_PASSWORD_LENGTH)
    return `the password must be at most ${MAX_PASSWORD_LENGTH} characters long`;
  if (length < ctx.minLength) return `the password must be at least ${ctx.minLength} characters long`;
  const lower = normalized.toLowerCase();
  if (commonPasswords().has(lower)) return 'the password is one of the most commonly used passwords';
  const own = [ctx.username, ctx.email?.split('@')[0]].filter((s): s is string => !!s && s.length >= 3);
  if (own.some((s) => lower.includes(s.toLowerCase())))
    return 'the password must not contain your username or email';
  return null;
}
