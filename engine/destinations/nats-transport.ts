/**
 * The `nats` transport: one message per event on the destination's subject. Core NATS publishes and
 * flushes (the server has them); with `jetstream` every message is acknowledged by the stream that
 * captures the subject and carries `Nats-Msg-Id` = messageId, so the stream drops redeliveries.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { PipelinedPublisher } from '../log/jetstream-publisher.ts';
import type { Transport } from './transport.ts';

export function natsTransport(config: { readonly url: string; readonly subject: string; readonly jetstream: boolean; readonly timeoutMs?: number }): Transport {
  const timeout = config.timeoutMs ?? 5000;
  let connection: Promise<{ nc: NatsConnection; publisher: PipelinedPublisher | undefined }> | undefined;
  const open = () =>
    (connection ??= connect({ servers: config.url, timeout, maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true, name: 'flock destination' }).then((nc) => ({
      nc,
      publisher: config.jetstream ? new PipelinedPublisher(nc, timeout) : undefined,
    })).catch((error: unknown) => {
      connection = undefined; // a failed connect is tried again by the next send
      throw error;
    }));
  return {
    async send(messages) {
      try {
        const { nc, publisher } = await open();
        const encoded = messages.map((m) => ({ subject: config.subject, data: Buffer.from(m.json), msgId: m.messageId }));
        if (publisher !== undefined) await publisher.publish(encoded);
        else {
          for (const m of encoded) nc.publish(m.subject, m.data);
          await nc.flush();
        }
        return { ok: true };
      } catch (error) {
        return { ok: false, retry: true, error: `nats: ${(error as Error).message}` };
      }
    },
    async close() {
      const c = await connection?.catch(() => undefined);
      await c?.nc.close();
    },
  };
}
