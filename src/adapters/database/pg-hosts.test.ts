import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config.ts';
import { parsePgServers, PgUrlError } from './pg-hosts.ts';

const hostsOf = (url: string) => parsePgServers(url).servers.map((s) => [s.host, s.port]);

describe('DATABASE_URL with several servers (libpq form)', () => {
  it('lists every server with its own port, 5432 where none is given', () => {
    expect(hostsOf('postgres://shop@db1:5433,db2,10.0.0.3:6000/seckill')).toEqual([
      ['db1', 5433],
      ['db2', 5432],
      ['10.0.0.3', 6000],
    ]);
  });

  it('takes IPv6 addresses in brackets, with or without a port', () => {
    const { servers } = parsePgServers('postgresql://u@[::1]:5433,[fd00::2]/db');
    expect(servers.map((s) => [s.host, s.port, s.label])).toEqual([
      ['::1', 5433, '[::1]:5433'],
      ['fd00::2', 5432, '[fd00::2]:5432'],
    ]);
    expect(servers[0]!.url).toBe('postgresql://u@[::1]:5433/db');
  });

  it('gives each server a URL with the rest of the original: user, password, database, parameters', () => {
    const { servers, targetSessionAttrs, plain } = parsePgServers(
      'postgres://shop:s%40cret@db1:5432,db2:5433/seckill?sslmode=disable&target_session_attrs=read-write&application_name=api',
    );
    expect(targetSessionAttrs).toBe('read-write');
    expect(plain).toBe(false);
    expect(servers.map((s) => s.url)).toEqual([
      'postgres://shop:s%40cret@db1:5432/seckill?sslmode=disable&application_name=api',
      'postgres://shop:s%40cret@db2:5433/seckill?sslmode=disable&application_name=api',
    ]);
    // Labels name the server only, never the credentials.
    expect(servers.map((s) => s.label)).toEqual(['db1:5432', 'db2:5433']);
  });

  it('is any by default, like libpq, and takes read-write, primary and any', () => {
    expect(parsePgServers('postgres://u@a,b/db').targetSessionAttrs).toBe('any');
    for (const value of ['any', 'read-write', 'primary'] as const) {
      expect(parsePgServers(`postgres://u@a,b/db?target_session_attrs=${value}`).targetSessionAttrs).toBe(value);
    }
    expect(parsePgServers('postgres://u@a,b/db?target_session_attrs=primary').servers[1]!.url).toBe('postgres://u@b:5432/db');
  });

  it('leaves a single server without a target to node-postgres exactly as written', () => {
    for (const url of [
      'postgres://postgres@127.0.0.1:5432/postgres',
      'postgres://u@db/x',
      'postgres://u@/db?host=/var/run/postgresql',
      'postgres://u@db/x?target_session_attrs=any',
      'socket:/var/run/postgresql?db=shop',
    ]) {
      const parsed = parsePgServers(url);
      expect(parsed.plain).toBe(true);
      expect(parsed.servers).toHaveLength(1);
      expect(parsed.servers[0]!.url).toBe(url);
    }
  });

  it('checks a single server too when asked for a writable one', () => {
    const parsed = parsePgServers('postgres://u@db:6000/x?target_session_attrs=read-write');
    expect(parsed.plain).toBe(false);
    expect(parsed.servers.map((s) => s.url)).toEqual(['postgres://u@db:6000/x']);
  });

  it('refuses, with a message saying what to change, what cannot work', () => {
    const refused: [string, RegExp][] = [
      ['postgres://u@a,b/db?target_session_attrs=read-only', /refuses writes.*read-write, primary or any/],
      ['postgres://u@a,b/db?target_session_attrs=standby', /refuses writes/],
      ['postgres://u@a,b/db?target_session_attrs=prefer-standby', /refuses writes/],
      ['postgres://u@a,b/db?target_session_attrs=readwrite', /one of any, read-write, primary \(got "readwrite"\)/],
      ['postgres://u@a:0,b/db', /port must be a number from 1 to 65535/],
      ['postgres://u@a:99999/db', /port must be a number from 1 to 65535/],
      ['postgres://u@a:54x2,b/db', /not host, host:port or \[IPv6 address\]:port/],
      ['postgres://u@::1,b/db', /IPv6 address goes in brackets/],
      ['postgres://u@a,,b/db', /empty host/],
      ['postgres://u@a,b/db?port=5433', /not as host=, hostaddr= or port= parameters/],
      ['postgres://u@/db?host=/tmp&target_session_attrs=primary', /needs the server's host/],
    ];
    for (const [url, message] of refused) {
      expect(() => parsePgServers(url), url).toThrow(PgUrlError);
      expect(() => parsePgServers(url), url).toThrow(message);
    }
  });

  it('never repeats the password in a refusal', () => {
    expect(() => parsePgServers('postgres://u:hunter2@a,b:x/db')).toThrow(/^(?!.*hunter2)/s);
  });

  it('the settings take a several-server DATABASE_URL as it is, and list a bad one with the other problems', () => {
    const url = 'postgres://shop@db1:5432,db2:5432/seckill?target_session_attrs=read-write';
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    try {
      loadConfig({ DATABASE_URL: 'postgres://shop@db1,db2/seckill?target_session_attrs=standby', PORT: 'eighty' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/DATABASE_URL: target_session_attrs=standby would connect to a server that refuses writes/);
      expect(problems).toContain('PORT');
    }
  });
});
