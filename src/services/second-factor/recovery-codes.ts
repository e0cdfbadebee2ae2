// Recovery codes: ten single-use codes shown once, for when the phone or the key is gone. Stored as SHA-256 only
// (each has 50 random bits: no guessing list to run a slow hash against); using one is audited and mailed to the
// account's address, so an owner learns at once when someone else got in with one.
import { randomBytes } from 'node:crypto';
import { hashToken } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store, User } from '../../ports/store.ts';

export const RECOVERY_CODES = 10;
// Crockford-style base32 without the letters people confuse (I, L, O, U).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** "XXXXX-XXXXX": 10 characters of 5 bits each. */
function newCode(): string {
  const bytes = randomBytes(10);
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[(bytes[i] as number) & 31];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

/** As typed: case, spaces and dashes do not matter; the letters people confuse read as the digits they look like. */
export function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

export class RecoveryCodes {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  /** New codes replacing any the user had: returned once, to be shown once. */
  async regenerate(user: User): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODES }, newCode);
    await this.#store.secondFactors.replaceRecoveryCodes(
      user.id,
      codes.map((c) => hashToken(normalizeRecoveryCode(c))),
      this.#clock.now(),
    );
    return codes;
  }

  /** Uses one code, once. */
  async use(user: User, code: string): Promise<boolean> {
    const normalized = normalizeRecoveryCode(code);
    if (!/^[0-9A-Z]{10}$/.test(normalized)) return false;
    return this.#store.secondFactors.useRecoveryCode(user.id, hashToken(normalized), this.#clock.now());
  }

  left(user: User): Promise<number> {
    return this.#store.secondFactors.recoveryCodesLeft(user.id);
  }
}
