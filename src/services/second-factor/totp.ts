// Authenticator-app codes (TOTP, RFC 6238: SHA-1, 6 digits, 30 s — what every app accepts). The secret is
// sealed at rest; a factor counts only after a first right code proves the app holds it; a code is accepted
// within one step either side of now, and at most once (the store accepts each step once, never an older one).
import { Secret, TOTP } from 'otpauth';
import { constantTimeEqual } from '../../crypto/constant-time.ts';
import type { Sealer } from '../../crypto/sealed.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SecondFactor, Store, User } from '../../ports/store.ts';

export const TOTP_PERIOD_S = 30;
const DIGITS = 6;
/** Steps either side of now: a phone's clock a little off, or a code typed as it rolled over. */
const WINDOW = 1;

export interface TotpEnrolment {
  factor: SecondFactor;
  /** base32, for typing into an app by hand. */
  secret: string;
  /** otpauth://totp/… for the QR code and for apps opened by link. */
  uri: string;
}

function totp(secret: string, issuer: string, label: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: TOTP_PERIOD_S,
    secret: Secret.fromBase32(secret),
  });
}

/** Only digits, spaces and dashes as apps group them ("123 456"); anything else is not a code. */
function normalize(code: string): string | null {
  const digits = code.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${DIGITS}}$`).test(digits) ? digits : null;
}

export class TotpFactors {
  readonly #store: Store;
  readonly #sealer: Sealer;
  readonly #clock: Clock;
  readonly #issuer: () => string;

  constructor(deps: { store: Store; sealer: Sealer; clock: Clock; issuer: () => string }) {
    this.#store = deps.store;
    this.#sealer = deps.sealer;
    this.#clock = deps.clock;
    this.#issuer = deps.issuer;
  }

  /** A new, unconfirmed factor: its secret shown once, to be proven with a code (confirm). */
  async begin(user: User, name: string): Promise<TotpEnrolment> {
    const secret = new Secret({ size: 20 }).base32;
    const factor = await this.#store.secondFactors.create(
      { kind: 'totp', userId: user.id, name, sealedSecret: this.#sealer.seal(secret) },
      this.#clock.now(),
    );
    return { factor, secret, uri: totp(secret, this.#issuer(), user.username).toString() };
  }

  /** An enrolment not finished yet, shown again (a wrong first code); null for anything else. */
  async unfinished(user: User, factorId: string): Promise<TotpEnrolment | null> {
    const factor = await this.#store.secondFactors.byId(factorId);
    if (!factor?.totp || factor.userId !== user.id || factor.confirmedAt !== null) return null;
    const secret = this.#sealer.open(factor.totp.sealedSecret);
    if (typeof secret !== 'string') return null;
    return { factor, secret, uri: totp(secret, this.#issuer(), user.username).toString() };
  }

  /**
   * Finishes an enrolment with a right code. The code's step is used up too: the code that confirmed the app
   * cannot also pass a challenge.
   */
  async confirm(user: User, factorId: string, code: string): Promise<boolean> {
    const factor = await this.#store.secondFactors.byId(factorId);
    if (!factor || factor.userId !== user.id || factor.kind !== 'totp' || factor.confirmedAt !== null)
      return false;
    const step = this.#step(factor, code);
    if (step === null) return false;
    const now = this.#clock.now();
    if (!(await this.#store.secondFactors.confirm(factor.id, user.id, now))) return false;
    await this.#store.secondFactors.useTotpStep(factor.id, step, now);
    return true;
  }

  /** A challenge: the confirmed factor the code belongs to, once; null for a wrong, old or used code. */
  async verify(user: User, code: string): Promise<SecondFactor | null> {
    const factors = (await this.#store.secondFactors.listForUser(user.id)).filter(
      (f) => f.kind === 'totp' && f.confirmedAt !== null,
    );
    for (const factor of factors) {
      const step = this.#step(factor, code);
      if (step !== null && (await this.#store.secondFactors.useTotpStep(factor.id, step, this.#clock.now())))
        return factor;
    }
    return null;
  }

  /** The time step a right code for this factor was made for, or null. */
  #step(factor: SecondFactor, code: string): number | null {
    const digits = normalize(code);
    const secret = factor.totp ? (this.#sealer.open(factor.totp.sealedSecret) as string | null) : null;
    if (digits === null || typeof secret !== 'string') return null;
    const generator = totp(secret, this.#issuer(), '');
    const current = Math.floor(this.#clock.now() / 1000 / TOTP_PERIOD_S);
    // Every step of the window is compared, through the one constant-time helper: no early exit tells which.
    let found: number | null = null;
    for (let step = current - WINDOW; step <= current + WINDOW; step++) {
      const expected = generator.generate({ timestamp: step * TOTP_PERIOD_S * 1000 });
      if (constantTimeEqual(expected, digits) && found === null) found = step;
    }
    return found;
  }
}
