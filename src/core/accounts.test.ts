import { describe, expect, it } from 'vitest';
import { assertPasswordAcceptable } from './accounts.ts';

describe('password acceptance', () => {
  it('the most common passwords, the phone number itself and one repeated character are refused as INVALID_INPUT on password', () => {
    for (const password of ['12345678', 'Password', 'PASSWORD123', 'qwertyuiop', 'woaini1314', '13912345678', '12345678', 'aaaaaaaaa']) {
      expect(() => assertPasswordAcceptable(password, '13912345678')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details: expect.objectContaining({ fields: ['password'] }) }));
    }
  });

  it('an ordinary password passes', () => {
    for (const password of ['password-123', 'correct horse battery', 'Zx7!kq2pLm']) expect(() => assertPasswordAcceptable(password, '13912345678')).not.toThrow();
  });
});
