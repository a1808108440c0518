import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one server instance (its own registry, so tests can run several). */
export class Metrics {
  readonly registry = new Registry();
  readonly tokenRequests = new Counter({
    name: 'signet_token_requests_total',
    help: 'Token endpoint requests by grant type and outcome (issued, or the OAuth error code)',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly tokenDuration = new Histogram({
    name: 'signet_token_request_duration_seconds',
    help: 'Token endpoint latency',
    labelNames: ['grant_type'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'signet_' });
  }
}
