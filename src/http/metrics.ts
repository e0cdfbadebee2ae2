// Prometheus metrics (prom-client), served on the admin listener at /metrics. Recording a request costs a
// cached counter child and a histogram observation; gauges that need the store are read only when scraped.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type SignInOutcome = 'ok' | 'failed' | 'throttled' | 'unverified';

export interface MetricSources {
  activeSessions: () => Promise<number>;
  outboxDepth: () => Promise<number>;
}

type RequestLabels = { route: string; status: string; decision: string };
/** Requests counted on the hot path as a plain number, handed to prom-client when /metrics is scraped. */
type Tally = { labels: RequestLabels; count: number; flushed: number };
/** Label combinations counted as tallies; past this many (a flood of odd statuses) prom-client counts directly. */
const MAX_TALLIES = 10_000;

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'status' | 'decision'>;
  readonly #upstream: Histogram<'route'>;
  readonly #signIns: Counter<'method' | 'outcome'>;
  readonly #reloads: Counter<'result'>;
  readonly #enrolments: Counter<'kind'>;
  readonly #challenges: Counter<'factor' | 'outcome'>;
  // prom-client hashes and validates the labels on every increment; the request path adds to a plain number
  // per label combination instead, and the counter takes the sums when it is collected.
  readonly #tallies = new Map<string, Tally>();
  readonly #latency = new Map<string, { observe(v: number): void }>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'hero_' });
    this.#requests = new Counter({
      name: 'hero_requests_total',
      help: 'Requests answered, by route, status and what the gateway decided.',
      labelNames: ['route', 'status', 'decision'],
      registers,
      collect: () => this.#flushTallies(),
    });
    this.#upstream = new Histogram({
      name: 'hero_upstream_duration_seconds',
      help: 'Time to answer requests forwarded to an upstream, by route.',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#signIns = new Counter({
      name: 'hero_sign_ins_total',
      help: 'Sign-in attempts by method and outcome.',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#enrolments = new Counter({
      name: 'hero_second_factor_enrolments_total',
      help: 'Second factors added, by kind (totp, webauthn).',
      labelNames: ['kind'],
      registers,
    });
    this.#challenges = new Counter({
      name: 'hero_second_factor_challenges_total',
      help: 'Second-factor answers by factor (totp, passkey, recovery_code) and outcome (ok, failed, throttled).',
      labelNames: ['factor', 'outcome'],
      registers,
    });
    this.#reloads = new Counter({
      name: 'hero_config_reloads_total',
      help: 'Config reloads by result.',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: 'hero_sessions_active',
      help: 'Sessions that can still be used.',
      registers,
      async collect() {
        this.set(await sources.activeSessions());
      },
    });
    new Gauge({
      name: 'hero_mail_outbox_depth',
      help: 'Mails queued and not yet delivered.',
      registers,
      async collect() {
        this.set(await sources.outboxDepth());
      },
    });
  }

  /** One answered request (called once per request, after the answer). */
  request(request: FastifyRequest, reply: FastifyReply): void {
    const s = request.hero;
    if (!s) return;
    const route = s.route?.name ?? (s.onAuthPath ? '(auth)' : '(none)');
    const status = reply.statusCode;
    const decision = s.forwarded
      ? 'forwarded'
      : status === 401 || (status === 303 && s.route)
        ? 'auth_required'
        : status === 403
          ? 'forbidden'
          : 'answered';
    const key = `${route}\0${status}\0${decision}`;
    const tally = this.#tallies.get(key);
    if (tally) tally.count++;
    else {
      const labels = { route, status: String(status), decision };
      if (this.#tallies.size < MAX_TALLIES) this.#tallies.set(key, { labels, count: 1, flushed: 0 });
      else this.#requests.inc(labels);
    }
    if (s.forwarded && s.route) {
      let h = this.#latency.get(route);
      if (!h) {
        h = this.#upstream.labels(route);
        this.#latency.set(route, h);
      }
      h.observe(reply.elapsedTime / 1000);
    }
  }

  #flushTallies(): void {
    for (const t of this.#tallies.values()) {
      if (t.count === t.flushed) continue;
      this.#requests.inc(t.labels, t.count - t.flushed);
      t.flushed = t.count;
    }
  }

  signIn(method: string, outcome: SignInOutcome): void {
    this.#signIns.labels(method, outcome).inc();
  }

  secondFactorEnrolled(kind: 'totp' | 'webauthn'): void {
    this.#enrolments.labels(kind).inc();
  }

  secondFactorChallenge(factor: string, outcome: 'ok' | 'failed' | 'throttled'): void {
    this.#challenges.labels(factor, outcome).inc();
  }

  reload(result: 'ok' | 'failed'): void {
    this.#reloads.labels(result).inc();
  }
}
