// The open WebSocket tunnels, and the watch that re-checks them every few seconds and closes the ones whose
// credentials no longer admit them (revoked session or token, disabled or deleted user, a lost claim).
import { isPromise, type MaybePromise } from '../core/maybe-promise.ts';

/** How often open tunnels are re-decided: a revocation takes effect on tunnels within this (plus one check). */
export const TUNNEL_CHECK_INTERVAL_MS = 2_000;

/** Why the watch ended a tunnel (shutdown is not reported: it ends them all). */
export type TunnelEnd = 'revoked' | 'check_failed';

export interface Tunnel {
  /**
   * Whether what opened the tunnel still admits it, or null on an open route (auth = "none"), where there is
   * nothing to re-check. May throw or reject when the store cannot answer.
   */
  readonly stillAdmitted: (() => MaybePromise<boolean>) | null;
  /** Ends both sides of the tunnel at once. */
  close(): void;
}

export interface TunnelTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const systemTimers: TunnelTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface TunnelWatchOptions {
  intervalMs?: number;
  timers?: TunnelTimers;
  /** Told about every tunnel the watch ends, for the log. */
  onEnd?: (why: TunnelEnd, err?: unknown) => void;
}

export class TunnelWatch {
  readonly #open = new Set<Tunnel>();
  readonly #intervalMs: number;
  readonly #timers: TunnelTimers;
  readonly #onEnd: (why: TunnelEnd, err?: unknown) => void;
  #timer: unknown = null;
  #checking = false;
  #shutDown = false;

  constructor(opts: TunnelWatchOptions = {}) {
    this.#intervalMs = opts.intervalMs ?? TUNNEL_CHECK_INTERVAL_MS;
    this.#timers = opts.timers ?? systemTimers;
    this.#onEnd = opts.onEnd ?? (() => {});
  }

  get size(): number {
    return this.#open.size;
  }

  /**
   * Registers a tunnel as soon as it is admitted (before the upstream answered, so shutdown reaches it too).
   * Returns the function that forgets it: call it when the tunnel closes, however it closes.
   */
  add(tunnel: Tunnel): () => void {
    // A gateway that is shutting down opens nothing new.
    if (this.#shutDown) {
      tunnel.close();
      return () => {};
    }
    this.#open.add(tunnel);
    this.#arm();
    return () => {
      this.#open.delete(tunnel);
      if (this.#open.size === 0) this.#disarm();
    };
  }

  /** Shutdown: every tunnel ends now (an upgraded socket would otherwise hold the server's close open). */
  closeAll(): void {
    this.#shutDown = true;
    this.#disarm();
    const all = [...this.#open];
    this.#open.clear();
    for (const t of all) t.close();
  }

  /** One round of re-checks (the timer's job; public so a test can run one without waiting). */
  async check(): Promise<void> {
    // A slow store must not stack rounds on top of each other: the next tick skips while one is running.
    if (this.#checking) return;
    this.#checking = true;
    try {
      const pending: Promise<void>[] = [];
      for (const t of [...this.#open]) {
        const p = this.#checkOne(t);
        if (p) pending.push(p);
      }
      await Promise.all(pending);
    } finally {
      this.#checking = false;
    }
  }

  #checkOne(t: Tunnel): Promise<void> | undefined {
    if (t.stillAdmitted === null) return;
    const decide = (ok: boolean) => {
      if (!ok) this.#end(t, 'revoked');
    };
    // Fail closed, like the gate: an identity the store cannot confirm right now keeps no tunnel open. Only the
    // tunnels checked during the outage end (clients reconnect, and are answered 503 until the store is back);
    // the watch itself keeps running for the tunnels opened afterwards.
    const failed = (err: unknown) => this.#end(t, 'check_failed', err);
    try {
      const r = t.stillAdmitted();
      if (isPromise(r)) return r.then(decide, failed);
      decide(r);
    } catch (err) {
      failed(err);
    }
  }

  #end(t: Tunnel, why: TunnelEnd, err?: unknown): void {
    if (!this.#open.delete(t)) return;
    if (this.#open.size === 0) this.#disarm();
    t.close();
    this.#onEnd(why, err);
  }

  #arm(): void {
    if (this.#timer !== null) return;
    this.#timer = this.#timers.setInterval(() => void this.check(), this.#intervalMs);
    // The watch never keeps a process alive on its own: shutdown is the server's decision.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #disarm(): void {
    if (this.#timer === null) return;
    this.#timers.clearInterval(this.#timer);
    this.#timer = null;
  }
}
