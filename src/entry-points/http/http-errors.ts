/** The one place where error codes become HTTP statuses, and errors become the documented body shape. */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { type ErrorCode, SeckillError, isSeckillError } from '../../core/errors.ts';
import type { RequestLog } from './auth.ts';
import { createLogThrottle } from '../../shared/log-throttle.ts';

export const STATUS_OF: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  SOLD_OUT: 409,
  DUPLICATE_ORDER: 409,
  NOT_STARTED: 409,
  ENDED: 409,
  PAUSED: 409,
  ALREADY_STARTED: 409,
  ORDER_CLOSED: 409,
  PHONE_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string, details?: unknown) {
  return reply.code(STATUS_OF[code]).send(errorBody(code, message, details));
}

export const RATE_LIMITED_MESSAGE = 'Too many requests; wait a moment and press again.';

/**
 * 429 with Retry-After: the answer a thrown RATE_LIMITED gets from handleError, without the throw. A
 * buyer's script pressing in a loop is answered this way thousands of times a second, and building an
 * Error (its stack) and going through fastify's error path cost more than the rest of the answer.
 */
export function sendRateLimited(reply: FastifyReply, retryAfterSeconds: number) {
  const answer = rateLimitedAnswer(retryAfterSeconds);
  reply.header('Retry-After', String(retryAfterSeconds));
  return reply.code(answer.status).send(answer.body);
}

/** The 429 of a press past its limit, as both buy doors answer it (with a Retry-After header). */
export function rateLimitedAnswer(retryAfterSeconds: number): ErrorAnswer {
  return { status: STATUS_OF.RATE_LIMITED, body: errorBody('RATE_LIMITED', RATE_LIMITED_MESSAGE, { retryAfterSeconds }), retryAfterSeconds };
}

/** Validate one input with zod; failures name the fields. */
export function parseInput<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))];
  const problems = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', problem: i.message }));
  throw new SeckillError('INVALID_INPUT', `Invalid ${fields.join(', ')}.`, { details: { fields, problems } });
}

const CUT_SHORT_CODES = new Set(['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'ECONNRESET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_HTTP_REQUEST_TIMEOUT']);

/** The body's stream ended early or failed, as opposed to a whole body that does not parse. */
function bodyCutShort(err: FastifyError): boolean {
  return CUT_SHORT_CODES.has(err.code) || err.message === 'aborted';
}

/** A dependency that is down fails every request at once: one line per problem per 5 s says so. */
const unavailableLog = createLogThrottle(5000);

export interface ErrorAnswer {
  status: number;
  body: ReturnType<typeof errorBody>;
  /** Seconds, for a Retry-After header. */
  retryAfterSeconds?: number;
}

/**
 * The answer to a SeckillError thrown by a route, logged as a person needs it (an INTERNAL each time, an
 * UNAVAILABLE once per problem per 5 s). Shared by handleError and the buy fast lane.
 */
export function seckillErrorAnswer(error: SeckillError, log: RequestLog): ErrorAnswer {
  if (error.code === 'INTERNAL') log.warn({ err: error }, error.message);
  if (error.code === 'UNAVAILABLE') {
    const { log: due, repeats } = unavailableLog.take(error.message);
    if (due) log.warn({ err: error, ...(repeats ? { sameProblemUnlogged: repeats } : {}) }, error.message);
  }
  const retryAfter = (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  return {
    status: STATUS_OF[error.code],
    body: errorBody(error.code, error.message, error.details),
    ...(error.code === 'RATE_LIMITED' && retryAfter ? { retryAfterSeconds: retryAfter } : {}),
  };
}

/** The answer to anything else a route throws: logged whole, answered without a trace of it. */
export function internalErrorAnswer(error: unknown, log: RequestLog): ErrorAnswer {
  log.error({ err: error }, 'request failed');
  return { status: STATUS_OF.INTERNAL, body: errorBody('INTERNAL', 'Something went wrong on our side.') };
}

export const BODY_NOT_JSON = 'The request body is not valid JSON.';

/** Translate anything thrown by a route; never send a stack trace. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (isSeckillError(error)) {
    const answer = seckillErrorAnswer(error, request.log);
    if (answer.retryAfterSeconds) reply.header('Retry-After', String(answer.retryAfterSeconds));
    return reply.code(answer.status).send(answer.body);
  }
  const fe = error as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
  // The body stopped arriving (the connection broke, this process stalled past the client's patience): the
  // request was never received whole, so it is not invalid. fastify marks these 400 like a bad body; a buyer
  // told INVALID_INPUT would not send it again, and a request it repeats may already have taken its unit.
  if (bodyCutShort(fe)) {
    reply.header('Connection', 'close');
    return reply.code(408).send(errorBody('INVALID_INPUT', 'The request did not arrive whole; send it again.'));
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 'INVALID_INPUT', 'Send a JSON body (Content-Type: application/json).');
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return sendError(reply, 'INVALID_INPUT', fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'The JSON body is empty.' : BODY_NOT_JSON);
  }
  const answer = internalErrorAnswer(error, request.log);
  return reply.code(answer.status).send(answer.body);
}

/**
 * Errors Node's HTTP parser raises before fastify sees a request (a request too slow to arrive, headers too
 * large, a malformed request line): answered in the documented shape, then the connection is closed.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request did not arrive in time.']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
        : [400, 'Bad Request', 'The request is malformed.'];
  const body = JSON.stringify(errorBody('INVALID_INPUT', message));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}
