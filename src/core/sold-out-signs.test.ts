import { describe, expect, it } from 'vitest';
import { createSoldOutSigns } from './sold-out-signs.ts';

describe('sold-out signs', () => {
  it('a sign set stays until cleared or until it expires', () => {
    let t = 0;
    const signs = createSoldOutSigns({ now: () => new Date(t) }, 1000);
    signs.set(1, signs.generation(1));
    expect(signs.isSet(1)).toBe(true);
    expect(signs.isSet(2)).toBe(false);
    t = 1001;
    expect(signs.isSet(1)).toBe(false);
    signs.set(1, signs.generation(1));
    signs.clear(1);
    expect(signs.isSet(1)).toBe(false);
  });

  it('a sold-out answer that raced a "stock again" broadcast does not set the sign', () => {
    const signs = createSoldOutSigns({ now: () => new Date(0) });
    const before = signs.generation(1); // the reserve starts
    signs.clear(1); // the broadcast lands while the reserve is on the wire
    signs.set(1, before); // the SOLD_OUT answer arrives
    expect(signs.isSet(1)).toBe(false);
  });
});
