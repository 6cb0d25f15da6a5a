/**
 * What the composition root hands out: the chosen adapters, and the running app with its addresses. Its own
 * module so that the roles (which receive them) and compose.ts (which makes them) do not import each other.
 */
import type { FastifyInstance } from 'fastify';
import type { Database } from '../adapters/database/database.ts';
import type { SimulatedPaymentProvider } from '../adapters/payment/simulated-payment-provider.ts';
import type { Config } from './config.ts';
import type { TokenSigner } from '../core/credentials.ts';
import type { AuditLog } from '../core/ports/audit-log.ts';
import type { OrderBus } from '../core/ports/order-bus.ts';
import type { OrderSearch, OrderStore } from '../core/ports/order-store.ts';
import type { PhoneCodeStore } from '../core/ports/phone-code-store.ts';
import type { SmsOutbox, SmsSender } from '../core/ports/sms-sender.ts';
import type { StockCache } from '../core/ports/stock-cache.ts';
import type { UserStore } from '../core/ports/user-store.ts';
import type { ReconcilerJob } from '../entry-points/jobs/reconciler.job.ts';
import type { Metrics } from '../entry-points/metrics.ts';

export interface Adapters {
  db: Database;
  store: OrderStore;
  users: UserStore;
  cache: StockCache;
  bus: OrderBus;
  payments: SimulatedPaymentProvider;
  /** Customer service's order search and the finance export (read-only, on the same database). */
  search: OrderSearch;
  /** What admins did (append-only, on the same database). */
  audit: AuditLog;
  codes: PhoneCodeStore;
  sms: SmsSender;
  /** The development sender's kept messages (SECKILL_SMS_ADAPTER=outbox); null with a real gateway. */
  outbox: SmsOutbox | null;
}

export interface RunningApp {
  config: Config;
  adapters: Adapters;
  signer: TokenSigner;
  metrics: Metrics;
  /** http://host:port of the api, when this process runs it. */
  httpUrl?: string;
  /** ws://host:port of the result push, when this process runs it. */
  wsUrl?: string;
  /** http://host:port of the metrics port (METRICS_PORT), when one is set. */
  metricsUrl?: string;
  /**
   * The admin account. `password` only on the start that generated it (to print once); later starts say
   * where it is kept, and a password from the environment is never echoed.
   */
  admin?: { phone: string; password?: string; source: 'generated now' | 'kept' | 'environment'; keptIn?: string };
  /** The reconciler, when this process runs the worker role. */
  reconciler?: ReconcilerJob;
  /** The api's server, when this process runs it (listening unless `listen: false`). */
  http?: FastifyInstance;
  stop(): Promise<void>;
}

/** What a caller may change about the composition; the defaults are what `npm start` runs. */
export interface StartOverrides {
  /** false: build the api without listening on a port; `RunningApp.http` answers injected requests (the bench's A/B). */
  listen?: boolean;
  /** Put something around the payment provider the composition chose (tests hold or fail charges with it). */
  payments?: (chosen: SimulatedPaymentProvider) => SimulatedPaymentProvider;
}
