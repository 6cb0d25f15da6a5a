/**
 * Keys taken once (a buy path is used by one request): the first holder of a key keeps it until it expires,
 * across api processes (Redis in the services mode, process memory in the embedded one). Atomic: of many
 * claims of one key at once, exactly one holder wins and every caller is told which. A call that cannot reach
 * the store rejects within the store's command deadline.
 */
export interface OnceClaims {
  /** Claim `key` for `holder` until `expiresAt`; resolves to the key's holder: `holder` itself when it was free or already held by it. */
  claim(key: string, holder: string, expiresAt: Date): Promise<string>;
}
