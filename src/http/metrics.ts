// Prometheus metrics (prom-client), served on the admin listener at /metrics. Recording a request costs a
// cached counter child and a histogram observation; gauges that need the store are read only when scraped.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type SignInOutcome = 'ok' | 'failed' | 'throttled' | 'unverified';

export interface MetricSources {
  activeSessions: () => Promise<number>;
  outboxDepth: () => Promise<number>;
}

type Child = { inc(): void };

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'status' | 'decision'>;
  readonly #upstream: Histogram<'route'>;
  readonly #signIns: Counter<'method' | 'outcome'>;
  readonly #reloads: Counter<'result'>;
  // Label lookups hash their values; the request path reuses one child per combination instead.
  readonly #children = new Map<string, Child>();
  readonly #latency = new Map<string, { observe(v: number): void }>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'hero_' });
    this.#requests = new Counter({
      name: 'hero_requests_total',
      help: 'Requests answered, by route, status and what the gateway decided.',
      labelNames: ['route', 'status', 'decision'],
      registers,
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
    let child = this.#children.get(key);
    if (!child) {
      child = this.#requests.labels(route, String(status), decision);
      if (this.#children.size < 10_000) this.#children.set(key, child);
    }
    child.inc();
    if (s.forwarded && s.route) {
      let h = this.#latency.get(route);
      if (!h) {
        h = this.#upstream.labels(route);
        this.#latency.set(route, h);
      }
      h.observe(reply.elapsedTime / 1000);
    }
  }

  signIn(method: string, outcome: SignInOutcome): void {
    this.#signIns.labels(method, outcome).inc();
  }

  reload(result: 'ok' | 'failed'): void {
    this.#reloads.labels(result).inc();
  }
}
