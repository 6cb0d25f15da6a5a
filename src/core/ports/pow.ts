/** Signed puzzles: made by this shop, checked here (a library such as ALTCHA does the arithmetic). */
export interface PowPuzzles {
  /** A new puzzle, signed, that expires after the lifetime it was made with. */
  make(): Promise<unknown>;
  /** The puzzle's signature when `solution` solves an unexpired puzzle signed here; null otherwise. */
  solved(solution: string): Promise<string | null>;
}
