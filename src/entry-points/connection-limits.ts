/**
 * The deadlines, header size and connection cap of every port that speaks HTTP to the outside: the api's
 * (fastify) and the result push's (its WebSocket upgrade). One set of numbers, so that neither port is the
 * softer one to hold idle or half-sent connections open against.
 */
import type { Server, ServerOptions } from 'node:http';

export interface ConnectionLimits {
  /** The whole request, headers and body: a client that trickles bytes is cut off (408). */
  requestTimeoutMs: number;
  /** The headers (and a connection that sends nothing at all): 408 after this. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection between requests is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all is destroyed after this (a last resort behind the deadlines above). */
  idleTimeoutMs: number;
  /** Request line and headers together; more answers 431. */
  maxHeaderBytes: number;
  /** Connections one port of one process holds (WebSocket sockets included); more are dropped at once. */
  maxConnections: number;
  /** How often Node checks the request and header deadlines (its default, 30 s, outlasts them). */
  checkIntervalMs: number;
}

export const DEFAULT_MAX_CONNECTIONS = 20_000;
export const MAX_HEADER_BYTES = 16 * 1024;
const HEADERS_TIMEOUT_MS = 10_000;

/** The limits for these deadlines (HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS, HTTP_MAX_CONNECTIONS). */
export function connectionLimits(settings: { requestMs?: number; keepAliveMs?: number; maxConnections?: number } = {}): ConnectionLimits {
  const requestTimeoutMs = settings.requestMs ?? 15_000;
  const keepAliveTimeoutMs = settings.keepAliveMs ?? 65_000;
  return {
    requestTimeoutMs,
    // Node requires headersTimeout ≤ requestTimeout.
    headersTimeoutMs: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
    keepAliveTimeoutMs,
    idleTimeoutMs: Math.max(keepAliveTimeoutMs, requestTimeoutMs) + 1000,
    maxHeaderBytes: MAX_HEADER_BYTES,
    maxConnections: settings.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    checkIntervalMs: 1000,
  };
}

/** What must be given when the server is created (http.createServer's options). */
export function serverOptions(limits: ConnectionLimits): ServerOptions {
  return {
    connectionsCheckingInterval: limits.checkIntervalMs,
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  };
}

/** What is set on a created server (fastify makes its own; these are not among its options). */
export function applyConnectionLimits(server: Server, limits: ConnectionLimits): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs);
  server.maxConnections = limits.maxConnections;
}
