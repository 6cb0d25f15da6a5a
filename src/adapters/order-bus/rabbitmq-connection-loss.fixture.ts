/**
 * A broker crash as one process sees it, for the tests of the RabbitMQ bus. A bus made with `connect` from
 * here opens its connections through amqplib as usual; `cut()` destroys their sockets, as a crash or a
 * dead network path would, and refuses new connections for `outageMs`. The shipped bus knows nothing of
 * this: it only takes a way to open a connection.
 */
import type { Duplex } from 'node:stream';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import type { AmqpConnect } from './rabbitmq-node-walk.ts';

export interface ConnectionLoss {
  /** For `createRabbitOrderBus({ connect })`: one handle per bus (per simulated process). */
  readonly connect: AmqpConnect;
  /**
   * Destroy the socket of every connection opened through `connect` and refuse new ones for `outageMs`
   * (default 0); resolves once each connection has closed, so the bus has seen the loss.
   */
  cut(opts?: { outageMs?: number }): Promise<void>;
}

export function connectionLoss(): ConnectionLoss {
  const open = new Set<ChannelModel>();
  let outageUntil = 0;
  const refused = () => Date.now() < outageUntil;
  return {
    async connect(url, socketOptions) {
      if (refused()) throw new Error('simulated broker outage');
      const model = await amqpConnect(url, socketOptions);
      if (refused()) {
        // Opened while the outage began: it never existed for the bus.
        await model.close().catch(() => undefined);
        throw new Error('simulated broker outage');
      }
      open.add(model);
      model.once('close', () => open.delete(model));
      return model;
    },
    async cut(opts) {
      outageUntil = Date.now() + (opts?.outageMs ?? 0);
      const models = [...open];
      const closed = models.map((model) => new Promise<void>((resolve) => model.once('close', () => resolve())));
      for (const model of models) socketOf(model).destroy(new Error('simulated connection loss'));
      await Promise.all(closed);
    },
  };
}

function socketOf(model: ChannelModel): Duplex {
  return (model.connection as unknown as { stream: Duplex }).stream;
}
