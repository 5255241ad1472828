/** `flock destinations …`: destinations and their connections through the management API — create, list, inspect, connect, status, resume, dead letters and replay. */
import { Option, type Command } from 'commander';

type Json = Record<string, any>;

export interface DestinationCommandDeps {
  /** a management API call under `/spaces/<space>/`; resolves with `data`. */
  readonly call: (method: string, path: string, body?: unknown) => Promise<Json>;
  readonly out: (line?: string) => void;
  /** whether --json was given. */
  readonly json: () => boolean;
}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter((s) => s !== '');
const number = (text: string) => Number(text);

function summary(d: Json): string {
  return `${d['id']}  ${d['kind']}  ${d['name']}  ${d['enabled'] ? 'enabled' : 'disabled'}  ${d['settings'].url ?? ''}${d['settings'].subject === undefined ? '' : ` ${d['settings'].subject}`}`;
}

function statusLine(s: Json): string {
  const lag = s['lag'].changes === null ? 'lag -' : `lag ${s['lag'].changes} changes / ${Math.round(s['lag'].seconds)} s`;
  const paused = s['state'] === 'paused' ? ` (${s['pauseReason']})` : '';
  const error = s['lastError'] === null ? '' : `\n  last error ${s['lastError'].at}: ${s['lastError'].message}`;
  return `${s['destinationId']}  ${s['state']}${paused}  ${lag}  delivered ${s['delivered']}  retrying ${s['retrying']}  failed ${s['failed']}  dead letters ${s['deadLetters']}${error}`;
}

/** The settings, limits and retry options shared by create and update. */
function withOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'webhook/list: where to POST; segment: the API base (…/v1/batch is added); nats: the server (settings.url; --url is the Flock service)')
    .option('--subject <subject>', 'nats: the subject')
    .option('--jetstream', 'nats: publish with JetStream acks and Nats-Msg-Id')
    .option('--identifier <type>', 'list: the identifier type (email, …)')
    .option('--hashed', 'list: SHA-256 the values (lower-cased, trimmed)')
    .option('--period <seconds>', 'list: seconds between syncs (default 3600)', number)
    .option('--header <name=value...>', 'webhook: an extra request header (repeatable)')
    .option('--secret <secret>', 'webhook/list: the HMAC signing secret; segment: the write key')
    .option('--preset <tool>', 'the request rate Segment uses for this tool (braze, customer.io, hubspot, …)')
    .option('--rps <n>', 'requests per second (0: no limit)', number)
    .option('--events-per-request <n>', 'events per request', number)
    .option('--concurrency <n>', 'requests in flight', number)
    .option('--max-attempts <n>', 'attempts before a batch is dead-lettered', number);
}

function bodyOf(o: Json): Json {
  const settings: Json = {};
  for (const [flag, key] of [['endpoint', 'url'], ['subject', 'subject'], ['identifier', 'identifier'], ['period', 'periodSeconds']] as const) if (o[flag] !== undefined) settings[key] = o[flag];
  if (o['jetstream'] === true) settings['jetstream'] = true;
  if (o['hashed'] === true) settings['hashed'] = true;
  if (o['header'] !== undefined) settings['headers'] = Object.fromEntries((o['header'] as string[]).map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)]));
  const limits: Json = {};
  if (o['rps'] !== undefined) limits['requestsPerSecond'] = o['rps'];
  if (o['eventsPerRequest'] !== undefined) limits['eventsPerRequest'] = o['eventsPerRequest'];
  if (o['concurrency'] !== undefined) limits['concurrency'] = o['concurrency'];
  return {
    ...(Object.keys(settings).length === 0 ? {} : { settings }),
    ...(Object.keys(limits).length === 0 ? {} : { limits }),
    ...(o['secret'] === undefined ? {} : { secret: o['secret'] }),
    ...(o['preset'] === undefined ? {} : { preset: o['preset'] }),
    ...(o['maxAttempts'] === undefined ? {} : { retry: { maxAttempts: o['maxAttempts'] } }),
  };
}

export function destinationCommands(cli: Command, deps: DestinationCommandDeps): void {
  const { call, out } = deps;
  const print = (value: unknown, text: () => string) => out(deps.json() ? JSON.stringify(value, null, 2) : text());
  const group = cli.command('destinations').description('destinations of the space (webhook, segment, nats, list) and their connections');

  group
    .command('list')
    .description('list the destinations')
    .action(async () => {
      const all = (await call('GET', 'destinations'))['destinations'] as Json[];
      print(all, () => (all.length === 0 ? 'no destinations' : all.map(summary).join('\n')));
    });

  group
    .command('get')
    .argument('<id>')
    .description('a destination with its connections and status')
    .action(async (id: string) => {
      const d = (await call('GET', `destinations/${id}`))['destination'] as Json;
      const connections = (await call('GET', `destinations/${id}/connections`))['connections'] as Json[];
      const status = (await call('GET', `destinations/${id}/status`))['status'] as Json;
      print({ destination: d, connections, status }, () =>
        [summary(d), `  limits: ${JSON.stringify(d['limits'])}${d['preset'] === undefined ? '' : ` (preset ${d['preset']})`}`, `  secret: ${d['hasSecret'] ? 'set' : 'none'}`, ...connections.map((c) => `  ${c['id']} → ${c['definitionId']}${c['backfillState']?.done === false ? ' (backfilling)' : ''}`), `  ${statusLine(status)}`].join('\n'),
      );
    });

  withOptions(group.command('create').description('create a destination'))
    .requiredOption('--name <name>')
    .addOption(new Option('--kind <kind>').choices(['webhook', 'segment', 'nats', 'list']).makeOptionMandatory())
    .action(async (o: Json) => {
      const d = (await call('POST', 'destinations', { name: o['name'], kind: o['kind'], settings: {}, ...bodyOf(o) }))['destination'] as Json;
      print(d, () => `created ${summary(d)}`);
    });

  withOptions(group.command('update').argument('<id>').description('change a destination (settings merge)'))
    .option('--name <name>')
    .option('--enable')
    .option('--disable')
    .action(async (id: string, o: Json) => {
      const body = { ...bodyOf(o), ...(o['name'] === undefined ? {} : { name: o['name'] }), ...(o['enable'] === true ? { enabled: true } : o['disable'] === true ? { enabled: false } : {}) };
      const d = (await call('PATCH', `destinations/${id}`, body))['destination'] as Json;
      print(d, () => `updated ${summary(d)}`);
    });

  group
    .command('delete')
    .argument('<id>')
    .action(async (id: string) => {
      await call('DELETE', `destinations/${id}`);
      print({ deleted: id }, () => `deleted ${id}`);
    });

  group
    .command('connect')
    .argument('<id>', 'the destination')
    .requiredOption('--definition <id>', 'the audience or computed trait')
    .option('--no-identify', 'send no Identify calls')
    .option('--track', 'send Track calls (Audience Entered / Exited, Trait Computed)')
    .option('--group', 'account-level: Group calls')
    .option('--account-users', 'account-level: Identify/Track per user of the account')
    .option('--identifiers <type:strategy,...>', 'identifiers and ID-sync strategy (first, last, all), e.g. user_id:all,email:last', list)
    .option('--anonymous', 'include anonymous ids')
    .option('--enrich <traits>', 'profile traits to add, comma-separated', list)
    .option('--no-backfill', 'send only changes from now on, not the current members')
    .action(async (id: string, o: Json) => {
      const body = {
        definitionId: o['definition'],
        identify: o['identify'] !== false,
        ...(o['track'] === true ? { track: true } : {}),
        ...(o['group'] === true ? { group: true } : {}),
        ...(o['accountUsers'] === true ? { accountUsers: true } : {}),
        ...(o['identifiers'] === undefined ? {} : { identifiers: (o['identifiers'] as string[]).map((x) => ({ type: x.split(':')[0], strategy: x.split(':')[1] ?? 'all' })) }),
        ...(o['anonymous'] === true ? { includeAnonymous: true } : {}),
        ...(o['enrich'] === undefined ? {} : { enrichTraits: o['enrich'] }),
        backfill: o['backfill'] !== false,
      };
      const c = (await call('POST', `destinations/${id}/connections`, body))['connection'] as Json;
      print(c, () => `connected ${c['definitionId']} to ${id} (${c['id']})`);
    });

  group
    .command('disconnect')
    .argument('<id>')
    .argument('<connectionId>')
    .action(async (id: string, connectionId: string) => {
      await call('DELETE', `destinations/${id}/connections/${connectionId}`);
      print({ disconnected: connectionId }, () => `disconnected ${connectionId}`);
    });

  group
    .command('status')
    .argument('<id>')
    .description('lag, delivered, retrying, failed, paused, last error')
    .action(async (id: string) => {
      const s = (await call('GET', `destinations/${id}/status`))['status'] as Json;
      print(s, () => statusLine(s));
    });

  group
    .command('resume')
    .argument('<id>')
    .description('resume a destination its failures paused')
    .action(async (id: string) => {
      await call('POST', `destinations/${id}/resume`);
      print({ resumed: id }, () => `resumed ${id}`);
    });

  group
    .command('dead-letters')
    .argument('<id>')
    .option('--limit <n>', 'how many', number, 50)
    .action(async (id: string, o: Json) => {
      const page = await call('GET', `destinations/${id}/dead-letters?limit=${o['limit']}`);
      print(page, () => [`${page['total']} dead letters`, ...(page['deadLetters'] as Json[]).map((l) => `  #${l['id']} ${l['at']} ${l['messages'].length} messages, ${l['attempts']} attempts: ${l['error']}`)].join('\n'));
    });

  group
    .command('replay')
    .argument('<id>')
    .option('--ids <ids>', 'dead letters to replay, comma-separated (default: all)', list)
    .action(async (id: string, o: Json) => {
      const r = await call('POST', `destinations/${id}/dead-letters/replay`, o['ids'] === undefined ? {} : { ids: (o['ids'] as string[]).map(Number) });
      print(r, () => `queued ${r['queued']} dead letters for replay`);
    });
}
