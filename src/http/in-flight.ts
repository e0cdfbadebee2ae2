// Handlers still running, so shutdown can wait for them before the store closes. A client that hangs up
// mid sign-in does not stop the handler: without this, closing the store under it turns into errors.
import type { FastifyInstance, RouteOptions } from 'fastify';

export class InFlight {
  #count = 0;
  #idle: (() => void)[] = [];

  track<T>(work: Promise<T>): Promise<T> {
    this.#count++;
    return work.finally(() => {
      if (--this.#count === 0) for (const done of this.#idle.splice(0)) done();
    });
  }

  drained(): Promise<void> {
    return this.#count === 0 ? Promise.resolve() : new Promise((done) => this.#idle.push(done));
  }

  /** Tracks every async handler of routes registered after this call, in this plugin. */
  trackRoutes(app: FastifyInstance): void {
    const track = (work: Promise<unknown>) => this.track(work);
    app.addHook('onRoute', (route: RouteOptions) => {
      const handler = route.handler;
      route.handler = function tracked(this: FastifyInstance, request, reply) {
        const result = handler.call(this, request, reply);
        return result instanceof Promise ? track(result) : result;
      };
    });
  }
}
