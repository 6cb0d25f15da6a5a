/**
 * The formats of the product's identifiers and the largest lists it hands out, declared once: the api
 * validates and documents them (schemas.ts, openapi.ts), the result socket and the page cursors check them.
 */

/** A buy request's id (the `uuid` a client picks): also the result socket's path. */
export const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const ORDER_NO = /^[A-Za-z0-9]{1,40}$/;
/** A mainland mobile number: 11 digits starting with 1. */
export const MOBILE_PHONE = /^1\d{10}$/;
/** Part of a phone an operator searches by. */
export const PHONE_DIGITS = /^\d{1,11}$/;

export const LIST_LIMITS = {
  /** Rows of an admin page (orders, audit). */
  page: { max: 200, default: 50 },
  /** Length of a page cursor a client passes back. */
  cursorLength: 400,
  alertsTaken: { max: 500, default: 50 },
  /** Dead-lettered batch messages replayed per call. */
  deadBatchesReplayed: { max: 10_000, default: 100 },
} as const;
