/** Stable error codes of the public contract (docs/api.md). Messages are for people; codes are for programs. */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'SOLD_OUT'
  | 'DUPLICATE_ORDER'
  | 'NOT_STARTED'
  | 'ENDED'
  | 'PAUSED'
  | 'ALREADY_STARTED'
  | 'ORDER_CLOSED'
  | 'PHONE_TAKEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/**
 * A failure that crosses a boundary with a stable code. Expected sale outcomes (sold out, duplicate)
 * are return values in the hot path; entry points turn them into this shape once.
 */
export class SeckillError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, opts: { details?: unknown; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'SeckillError';
    this.code = code;
    this.details = opts.details;
  }
}

export const isSeckillError = (e: unknown): e is SeckillError => e instanceof SeckillError;
