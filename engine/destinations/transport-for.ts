/** The transport of a destination's kind, from its settings and secret. */
import type { DestinationRecord } from './destination-record.ts';
import { segmentTransport, webhookTransport } from './http-transport.ts';
import { natsTransport } from './nats-transport.ts';
import type { Transport } from './transport.ts';

/** Event destinations only: a `list` destination posts its own bodies (list-sync.ts). */
export function transportFor(d: DestinationRecord): Transport | undefined {
  switch (d.settings.kind) {
    case 'webhook':
      return webhookTransport(d.settings.webhook.url, d.secret, d.settings.webhook.headers);
    case 'segment':
      return segmentTransport(d.settings.segment.url, d.secret);
    case 'nats':
      return natsTransport(d.settings.nats);
    case 'list':
      return undefined;
  }
}
