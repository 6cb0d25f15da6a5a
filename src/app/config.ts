/**
 * Settings, parsed once from the environment by one schema (settings.ts). Every bad setting is listed at once and
 * the process refuses to start. This is the only module that reads process.env.
 */
import os from 'node:os';
import { settingsSchema, type ProcessRole } from './settings.ts';

export type Config = Readonly<{
  mode: 'embedded' | 'services';
  roles: readonly ProcessRole[];
  host: string;
  port: number;
  wsPort: number;
  wsPublicUrl: string | undefined;
  databaseUrl: string;
  databaseSchema: string | undefined;
  databasePoolSize: number;
  redisUrl: string;
  redisKeyPrefix: string;
  /** Seed nodes of a Redis Cluster; undefined: the one Redis at redisUrl. */
  redisClusterNodes: readonly Readonly<{ host: string; port: number }>[] | undefined;
  /** The displayed pre-stock is read from replicas (cluster only); reservations always go to masters. */
  redisReadFromReplicas: boolean;
  /** As written: one node, or the nodes of one cluster (the bus reads the list). */
  amqpUrl: string;
  amqpPrefix: string;
  /** Durable queues are declared classic or quorum (replicated); the type of an existing queue cannot change. */
  amqpQueueType: 'classic' | 'quorum';
  amqpManagementUrls: string[] | undefined;
  amqpStatsIntervalMs: number;
  /** Api processes forked on one port by node:cluster (always 1 in embedded mode). */
  apiProcesses: number;
  dataDir: string;
  payTimeoutMs: number;
  adminPhone: string;
  adminPassword: string | undefined;
  tokenSecret: string | undefined;
  tokenTtlSeconds: number;
  /** Refresh token lifetime in seconds; 0 = sessions carry none. */
  refreshTtlSeconds: number;
  demo: boolean;
  workerPrefetch: number;
  /** Seckill requests per second per buyer and api process after a burst; 0 turns the limit off. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Seckill requests per second per client address, across api processes; 0 turns the limit off. */
  ipRateLimitPerSecond: number;
  /** Login and register attempts per minute per client address (and register attempts per phone); 0 turns the limit off. */
  authRateLimitPerMinute: number;
  /** Failed logins per minute per client address, every phone together; 0 turns the limit off. */
  authFailuresPerMinute: number;
  /** Failed logins per hour per phone, every address together (an address the phone logged in from is spared); 0 = off. */
  loginPhoneFailuresPerHour: number;
  /**
   * Whose X-Forwarded-For names the client: false (nobody: the connection's address), a number of proxy hops
   * (the entry that many from the right), or the proxies' addresses / CIDR ranges (the rightmost entry not one of them).
   */
  trustProxy: false | number | string[];
  /** The buy request must carry a path from GET /api/seckill/goods/:id/path. */
  hiddenPath: boolean;
  /** Origins the shop page may show sale images from, besides its own and data:. */
  imageOrigins: readonly string[];
  /** Register needs a one-time code sent to the phone. */
  phoneVerification: boolean;
  /** How codes leave: kept in the database's outbox (development), or posted to an SMS gateway. */
  sms: Readonly<{ adapter: 'outbox' | 'http'; url: string | undefined; authHeader: string; key: string | undefined; timeoutMs: number; perAddressPerHour: number }>;
  /** Which requests need a solved proof-of-work puzzle, and its difficulty. */
  pow: Readonly<{ scopes: readonly ('register' | 'buy')[]; maxNumber: number }>;
  /** argon2id parameters of new password hashes; a stored hash of other ones (or scrypt) is rehashed at login. */
  passwordHash: { memoryKiB: number; time: number; parallelism: number };
  /** How long an api process trusts its cached token version of a user (changes made elsewhere show after this). */
  tokenVersionCacheMs: number;
  /** The public goods list and detail keep the goods' database facts this long (ms) per api process. */
  goodsViewTtlMs: number;
  /** The cache keeps each request's note this long; the result poll answers 404 for a uuid with none. */
  resultNoteKeepMs: number;
  reconcileIntervalMs: number;
  reconcileGraceMs: number;
  workerBatchSize: number;
  /** An api process publishes its accepted orders as one message once this many wait … */
  apiBatchMaxOrders: number;
  /** … or this long after the first of them (0: at the end of the event-loop turn). */
  apiBatchMaxWaitMs: number;
  /** Database batches one worker process decides at once (each on its own connection). */
  workerConcurrency: number;
  /** Coalesce the Redis commands issued in one event-loop turn into one write (ioredis enableAutoPipelining). */
  redisAutoPipelining: boolean;
  bodyLimitBytes: number;
  /** Connections one process holds on PORT and on WS_PORT each (result sockets included); more are dropped. */
  httpMaxConnections: number;
  /** How long start-up waits for PostgreSQL, Redis and RabbitMQ to come up (services mode). */
  startupTimeoutMs: number;
  /** Result sockets one buyer may hold per push process, and how long one waits for its result. */
  wsMaxSocketsPerUser: number;
  wsWaitMs: number;
  /** Set: /metrics needs this bearer token; unset: it answers loopback clients only. */
  metricsToken: string | undefined;
  /** Serve /metrics on this port as well (the only way to scrape a worker or ws process); undefined: no. */
  metricsPort: number | undefined;
  /** Deadlines of calls that leave the process: a missed one is UNAVAILABLE, never a hang. */
  deadlines: Readonly<{
    redisCommandMs: number;
    databaseConnectMs: number;
    databaseStatementMs: number;
    amqpConfirmMs: number;
    /** A charge request: the provider takes nothing for one older than this, and the pay stops waiting. */
    paymentChargeMs: number;
    /** Whole HTTP request (headers and body) */
    httpRequestMs: number;
    /** An idle keep-alive connection is closed after this. */
    httpKeepAliveMs: number;
  }>;
  logLevel: string;
  /** Unset: readable lines on a terminal, JSON lines otherwise. */
  logFormat: 'pretty' | 'json' | undefined;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const isOn = (v: string | undefined) => v === 'true' || v === '1' || v === 'yes';

function hostPort(node: string): Readonly<{ host: string; port: number }> {
  const colon = node.lastIndexOf(':');
  return Object.freeze({ host: node.slice(0, colon), port: Number(node.slice(colon + 1)) });
}

/** Parse settings from an environment (process.env by default). Empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = settingsSchema.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  // Checked on the raw value too, so it is listed with the other problems rather than after them.
  if (present.SECKILL_MODE === 'services' && !present.SECKILL_TOKEN_SECRET) {
    problems.push('SECKILL_TOKEN_SECRET: required in services mode (every api process must verify the same tokens)');
  }
  if (present.SECKILL_MODE !== 'services' && Number(present.SECKILL_API_PROCESSES) > 1) {
    problems.push('SECKILL_API_PROCESSES: must be 1 in embedded mode (its database runs inside the one process); use SECKILL_MODE=services for more');
  }
  if (isOn(present.REDIS_READ_FROM_REPLICAS) && !present.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_READ_FROM_REPLICAS: needs REDIS_CLUSTER_NODES (replicas are found through the cluster)');
  }
  if (present.SECKILL_SMS_ADAPTER === 'http' && !present.SECKILL_SMS_HTTP_URL) {
    problems.push('SECKILL_SMS_HTTP_URL: required with SECKILL_SMS_ADAPTER=http (the gateway codes are posted to)');
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    mode: e.SECKILL_MODE,
    roles: Object.freeze([...new Set(e.SECKILL_ROLES)]),
    host: e.HOST,
    port: e.PORT,
    wsPort: e.WS_PORT,
    wsPublicUrl: e.WS_PUBLIC_URL,
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    redisClusterNodes: e.REDIS_CLUSTER_NODES ? Object.freeze(e.REDIS_CLUSTER_NODES.map(hostPort)) : undefined,
    redisReadFromReplicas: e.REDIS_READ_FROM_REPLICAS,
    amqpUrl: e.AMQP_URL,
    amqpPrefix: e.AMQP_PREFIX,
    amqpQueueType: e.AMQP_QUEUE_TYPE,
    amqpManagementUrls: e.AMQP_MANAGEMENT_URL,
    amqpStatsIntervalMs: e.AMQP_STATS_INTERVAL_MS,
    apiProcesses: e.SECKILL_API_PROCESSES ?? (e.SECKILL_MODE === 'services' ? os.availableParallelism() : 1),
    dataDir: e.SECKILL_DATA_DIR,
    payTimeoutMs: e.ORDER_PAY_TIMEOUT_MS,
    adminPhone: e.SECKILL_ADMIN_PHONE,
    adminPassword: e.SECKILL_ADMIN_PASSWORD,
    tokenSecret: e.SECKILL_TOKEN_SECRET,
    tokenTtlSeconds: e.SECKILL_TOKEN_TTL_S,
    refreshTtlSeconds: e.SECKILL_REFRESH_TTL_S,
    demo: e.SECKILL_DEMO ?? e.SECKILL_MODE === 'embedded',
    workerPrefetch: e.WORKER_PREFETCH,
    rateLimitPerSecond: e.SECKILL_RATE_LIMIT_PER_S,
    rateLimitBurst: e.SECKILL_RATE_LIMIT_BURST,
    ipRateLimitPerSecond: e.SECKILL_IP_RATE_LIMIT_PER_S,
    authRateLimitPerMinute: e.SECKILL_AUTH_RATE_LIMIT_PER_MIN,
    authFailuresPerMinute: e.SECKILL_AUTH_FAILURES_PER_MIN,
    loginPhoneFailuresPerHour: e.SECKILL_LOGIN_PHONE_FAILURES_PER_HOUR,
    trustProxy: Array.isArray(e.SECKILL_TRUST_PROXY) ? Object.freeze([...e.SECKILL_TRUST_PROXY]) as string[] : e.SECKILL_TRUST_PROXY,
    hiddenPath: e.SECKILL_HIDDEN_PATH,
    phoneVerification: e.SECKILL_PHONE_VERIFICATION,
    sms: Object.freeze({
      adapter: e.SECKILL_SMS_ADAPTER,
      url: e.SECKILL_SMS_HTTP_URL,
      authHeader: e.SECKILL_SMS_HTTP_AUTH_HEADER,
      key: e.SECKILL_SMS_HTTP_KEY,
      timeoutMs: e.SECKILL_SMS_HTTP_TIMEOUT_MS,
      perAddressPerHour: e.SECKILL_SMS_RATE_LIMIT_PER_HOUR,
    }),
    pow: Object.freeze({
      scopes: Object.freeze(e.SECKILL_POW === 'off' ? [] : e.SECKILL_POW === 'both' ? (['register', 'buy'] as const) : [e.SECKILL_POW]),
      maxNumber: e.SECKILL_POW_MAX_NUMBER,
    }),
    passwordHash: { memoryKiB: e.SECKILL_PASSWORD_ARGON2_MEMORY_KIB, time: e.SECKILL_PASSWORD_ARGON2_TIME, parallelism: 1 },
    imageOrigins: Object.freeze([...e.SECKILL_IMAGE_ORIGINS]),
    tokenVersionCacheMs: e.SECKILL_TOKEN_VERSION_CACHE_MS,
    goodsViewTtlMs: e.SECKILL_GOODS_VIEW_TTL_MS,
    resultNoteKeepMs: e.SECKILL_RESULT_NOTE_KEEP_MS,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    reconcileGraceMs: e.RECONCILE_GRACE_MS,
    workerBatchSize: e.WORKER_BATCH_SIZE,
    apiBatchMaxOrders: e.API_BATCH_MAX_ORDERS,
    apiBatchMaxWaitMs: e.API_BATCH_MAX_WAIT_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    redisAutoPipelining: e.REDIS_AUTO_PIPELINING,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    httpMaxConnections: e.HTTP_MAX_CONNECTIONS,
    startupTimeoutMs: e.STARTUP_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
    wsMaxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
    wsWaitMs: e.WS_WAIT_MS,
    deadlines: Object.freeze({
      redisCommandMs: e.REDIS_COMMAND_TIMEOUT_MS,
      databaseConnectMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      databaseStatementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      amqpConfirmMs: e.AMQP_CONFIRM_TIMEOUT_MS,
      paymentChargeMs: e.PAYMENT_CHARGE_TIMEOUT_MS,
      httpRequestMs: e.HTTP_REQUEST_TIMEOUT_MS,
      httpKeepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    }),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
  });
}
