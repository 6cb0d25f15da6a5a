/** Removing what a run made on the real services: its Redis keys and its RabbitMQ topology (tests and the bench). */
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { deleteTopology, topologyNames } from '../src/adapters/order-bus/rabbitmq-topology.ts';

export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => undefined);
  }
}

/** `payTimeoutMs` names the delay queue; pass the one the run was configured with. */
export async function dropTopology(url: string, prefix: string, payTimeoutMs?: number): Promise<void> {
  const conn = await connect(url);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await deleteTopology(ch, topologyNames(prefix, payTimeoutMs));
  } finally {
    await conn.close().catch(() => undefined);
  }
}
