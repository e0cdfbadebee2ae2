// How a session signed in, in the three forms the gateway states it: whether it passed a second factor (what a
// route with `mfa = true` asks), the X-Hero-Auth-Method label (`password+totp`), and the assertion's `amr`
// (RFC 8176). One table, so the three can never disagree.

/** The second factors a sign-in can pass; `provider`: an identity provider trusted (`trust_mfa`) to have asked for one. */
export const SECOND_FACTORS = ['totp', 'passkey', 'recovery_code', 'provider'] as const;
export type SecondFactorMethod = (typeof SECOND_FACTORS)[number];

export function isSecondFactor(value: string | null): value is SecondFactorMethod {
  return value !== null && (SECOND_FACTORS as readonly string[]).includes(value);
}

/**
 * Whether the sign-in proved two factors. A passkey alone does: it is something the person has, unlocked by
 * something they know or are (the sign-in demands user verification).
 */
export function hasSecondFactor(method: string, secondFactor: string | null): boolean {
  return method === 'passkey' || isSecondFactor(secondFactor);
}

/** X-Hero-Auth-Method: the first factor, then `+` and the second when there was one (`oidc:corp+mfa` for a trusted provider's). */
export function authMethodLabel(method: string, secondFactor: string | null): string {
  if (!isSecondFactor(secondFactor)) return method;
  return `${method}+${secondFactor === 'provider' ? 'mfa' : secondFactor}`;
}

// RFC 8176 values. A mailed link has no registered value: `email` says what it was without posing as a code
// from an app (`otp`), which an app checking for a second factor could mistake it for.
const FIRST: Record<string, readonly string[]> = {
  password: ['pwd'],
  magic_link: ['email'],
  passkey: ['hwk', 'user'],
};
const SECOND: Record<SecondFactorMethod, readonly string[]> = {
  totp: ['otp'],
  recovery_code: ['otp'],
  passkey: ['hwk'],
  provider: [],
};

/**
 * The assertion's `amr`: what each factor was, and `mfa` whenever there were two. A provider's sign-in states
 * nothing of its own factors here unless it was trusted for a second one.
 */
export function amrOf(method: string, secondFactor: string | null): string[] {
  const values = new Set(FIRST[method] ?? []);
  if (isSecondFactor(secondFactor)) for (const v of SECOND[secondFactor]) values.add(v);
  if (hasSecondFactor(method, secondFactor)) values.add('mfa');
  return [...values];
}
