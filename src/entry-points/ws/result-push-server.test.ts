import { describe, expect, it } from 'vitest';
import { parseTarget } from './result-push-server.ts';

describe('parseTarget (the upgrade path, read without new URL)', () => {
  it('reads the uuid and the token, percent-encoded or not, as URLSearchParams would', () => {
    expect(parseTarget('/abc-DEF_123?token=a.b-c_d')).toEqual({ uuid: 'abc-DEF_123', token: 'a.b-c_d' });
    expect(parseTarget('/abc-DEF_123?x=1&token=a%2Eb&token=second')).toEqual({ uuid: 'abc-DEF_123', token: 'a.b' });
    expect(parseTarget('/abc%2DDEF_123?token=a+b')).toEqual({ uuid: 'abc-DEF_123', token: 'a b' });
    expect(parseTarget('/abc-DEF_123#frag?token=x')).toEqual({ uuid: 'abc-DEF_123', token: '' });
  });

  it('a missing token is empty, an undecodable one stays as sent (it then fails verification)', () => {
    expect(parseTarget('/abcdefgh')).toEqual({ uuid: 'abcdefgh', token: '' });
    expect(parseTarget('/abcdefgh?tokens=x')).toEqual({ uuid: 'abcdefgh', token: '' });
    expect(parseTarget('/abcdefgh?token=%zz')).toEqual({ uuid: 'abcdefgh', token: '%zz' });
  });

  it('anything but /{uuid} is null, bad percent-encoding included', () => {
    for (const url of [undefined, '', '/', 'abcdefgh', '//abcdefgh', '/abc/defgh', '/short', '/' + 'a'.repeat(65), '/%', '/%E0%A4%A', '/%zz?token=x', '//%%%', 'http://h/abcdefgh'])
      expect(parseTarget(url)).toBeNull();
  });
});
