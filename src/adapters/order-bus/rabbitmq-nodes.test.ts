import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.ts';
import { AmqpUrlError, parseAmqpNodes } from './rabbitmq-nodes.ts';
import { managementUrlsOf } from './rabbitmq-queue-stats.ts';

const labels = (raw: string) => parseAmqpNodes(raw).map((n) => n.label);
const urls = (raw: string) => parseAmqpNodes(raw).map((n) => n.url);

describe('AMQP_URL as the nodes of one cluster', () => {
  it('one URL is one node, as before', () => {
    expect(parseAmqpNodes('amqp://guest:guest@127.0.0.1:5672')).toEqual([{ url: 'amqp://guest:guest@127.0.0.1:5672', label: '127.0.0.1:5672' }]);
    expect(labels('amqps://u:p@rmq.example.com/shop')).toEqual(['rmq.example.com:5671']);
  });

  it('every node as a whole URL', () => {
    expect(urls('amqp://u:p@h1:5672, amqp://u:p@h2:5673,amqps://u:p@h3')).toEqual(['amqp://u:p@h1:5672', 'amqp://u:p@h2:5673', 'amqps://u:p@h3']);
    expect(labels('amqp://u:p@h1:5672, amqp://u:p@h2:5673,amqps://u:p@h3')).toEqual(['h1:5672', 'h2:5673', 'h3:5671']);
  });

  it('the short form: credentials before the first host and vhost and parameters after the last apply to every node', () => {
    expect(urls('amqp://u:p%2Cq@h1:5672,h2,[fd00::3]:5673/sale?heartbeat=5')).toEqual([
      'amqp://u:p%2Cq@h1:5672/sale?heartbeat=5',
      'amqp://u:p%2Cq@h2/sale?heartbeat=5',
      'amqp://u:p%2Cq@[fd00::3]:5673/sale?heartbeat=5',
    ]);
    expect(labels('amqp://u:p@h1:5672,h2,[fd00::3]:5673/sale')).toEqual(['h1:5672', 'h2:5672', '[fd00::3]:5673']);
  });

  it('refuses what it cannot use, without repeating a password', () => {
    const refused = (raw: string) => {
      try {
        parseAmqpNodes(raw);
      } catch (err) {
        expect(err).toBeInstanceOf(AmqpUrlError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${raw}`);
    };
    expect(refused('http://h1:5672')).toMatch(/amqp:\/\/ or amqps:\/\//);
    expect(refused('amqp://u:secret@h1:5672,,h2')).toMatch(/empty entry/);
    expect(refused('amqp://u:secret@h1:5672,h2,amqp://u:secret@h3')).toMatch(/not both/);
    expect(refused('amqp://u:secret@h1/a,amqp://u:secret@h2/b')).toMatch(/same vhost/);
    expect(refused('amqp://u:secret@h1:5672,h1:5672')).toMatch(/twice/);
    expect(refused('amqp://u:secret@h1:5672,h2:99999')).toMatch(/node 2/);
    expect(refused('amqp://u:secret@h1:5672,h 2')).toMatch(/host "h 2"/);
    expect(refused('amqp://u:secret@h1:5672,h2:')).toMatch(/host "h2:"/);
    for (const raw of ['amqp://u:secret@h1:5672,h2:99999', 'amqp://u:secret@h1,amqp://u:secret@h1']) expect(refused(raw)).not.toContain('secret');
  });

  it('the management API of every node (same host and user, port 15672) when AMQP_MANAGEMENT_URL is not set', () => {
    expect(managementUrlsOf(urls('amqp://shop:pw@h1:5672,h2:5673,[fd00::3]'))).toEqual([
      'http://shop:pw@h1:15672',
      'http://shop:pw@h2:15672',
      'http://shop:pw@[fd00::3]:15672',
    ]);
  });

  it('the settings check AMQP_URL at start, listing the problem with the others', () => {
    const services = { SECKILL_MODE: 'services', SECKILL_TOKEN_SECRET: 'x'.repeat(32) };
    expect(loadConfig({ ...services, AMQP_URL: 'amqp://u:p@h1:5672,h2:5673' }).amqpUrl).toBe('amqp://u:p@h1:5672,h2:5673');
    expect(() => loadConfig({ ...services, AMQP_URL: 'amqp://u:p@h1:5672,http://h2' })).toThrow(/AMQP_URL: node 2 must start with amqp/);
    expect(() => loadConfig({ ...services, AMQP_URL: 'amqp://u:p@h1:5672,h2,amqp://u:p@h3' })).toThrow(/AMQP_URL: .*not both/);
  });
});
