// Password hashing: argon2id with the OWASP-recommended floor (19 MiB, 2 passes, 1 lane). The parameters
// travel inside the PHC string, so raising them later only needs a rehash at the next sign-in.
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id; the package exports it as an ambient const enum, which erasable TS cannot read.
const ARGON2ID = 2;

export const ARGON2_PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** The same normalization at set and verify, so "é" typed two ways is one password. Never truncated. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

// At most this many argon2 computations at once (all cores but one), the rest wait in line: a burst of
// sign-ins then slows sign-ins, not every proxied request. Each one costs ~15 ms of CPU and 19 MiB.
const MAX_CONCURRENT = Math.max(1, availableParallelism() - 1);
let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((go) => waiting.push(go));
  else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(normalizePassword(password), ARGON2_PARAMS));
}

/** False for a wrong password and for a malformed hash: never throws on bad input. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await limited(() => verify(phc, normalizePassword(password)));
  } catch {
    return false;
  }
}

/** True when the stored hash was made with weaker settings (or another algorithm) than today's. */
export function needsRehash(phc: string): boolean {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (!m) return true;
  return (
    Number(m[1]) < ARGON2_PARAMS.memoryCost ||
    Number(m[2]) < ARGON2_PARAMS.timeCost ||
    Number(m[3]) < ARGON2_PARAMS.parallelism
  );
}
