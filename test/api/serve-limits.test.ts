/**
 * Slowloris: half-open connections (headers never finished, bodies trickled) are closed once the
 * configured timeouts pass, one client address cannot hold more than its share of the connections,
 * and a normal client is answered throughout. Loopback only: each attacking address is its own
 * 127.0.0.x; a few hundred sockets, all closed by the test at the end whatever happens.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startServer, type RunningServer, type ServerLimits } from '../../api/serve.ts';
import { basic, ingestApp, WRITE_KEY } from '../support/ingest-app.ts';

const LIMITS: ServerLimits = { headersTimeoutMs: 2_000, requestTimeoutMs: 3_000, keepAliveTimeoutMs: 1_000, maxConnections: 400, maxConnectionsPerAddress: 120 };
/** generous: the timeouts, node's check interval (≤ 1 s) and a loaded machine; without limits node waits 60 s and 300 s. */
const CLOSED_WITHIN_MS = 15_000;

/** the service's own app: the tracking API reads bodies as the service does */
const { app, logs } = ingestApp();
const TRACK = `POST /v1/track HTTP/1.1\r\nHost: flock\r\nAuthorization: ${basic(WRITE_KEY)}\r\nContent-Type: application/json\r\n`;

interface Held {
  readonly socket: Socket;
  closed: boolean;
  /** what the server wrote before closing (a 408 when it timed the request out). */
  received: string;
}

/** Opens a connection from `localAddress`, writes `first` and keeps it open without finishing the request. */
function hold(port: number, localAddress: string, first: string): Promise<Held> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    const held: Held = { socket, closed: false, received: '' };
    socket.on('data', (chunk: Buffer) => (held.received += chunk.toString()));
    socket.on('error', () => undefined); // a dropped connection resets: that is what is being counted
    socket.on('close', () => {
      held.closed = true;
      resolve(held);
    });
    socket.on('connect', () => {
      socket.write(first);
      resolve(held);
    });
  });
}

/** A normal client on 127.0.0.1: a fresh connection per request. */
function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(`${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(done: () => boolean, withinMs: number): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (!done() && Date.now() < end) await sleep(50);
  return done();
}

test('half-open connections are closed after the timeouts; one address holds at most its share; others are served', async () => {
  const server: RunningServer = await startServer(app, { host: '127.0.0.1', port: 0, limits: LIMITS });
  const all: Held[] = [];
  try {
    // headers never finished, from 127.0.0.2: more than the global cap, so without the per-address
    // cap this one address would take every connection
    const headerHalf = 450;
    for (let i = 0; i < headerHalf; i++) all.push(await hold(server.port, '127.0.0.2', TRACK));
    // a body that never arrives in full, from 127.0.0.3
    const bodyHalf = 100;
    for (let i = 0; i < bodyHalf; i++) all.push(await hold(server.port, '127.0.0.3', `${TRACK}Content-Length: 100000\r\n\r\n{"userId":`));
    await sleep(200);
    const open = (from: number, to: number) => all.slice(from, to).filter((h) => !h.closed).length;
    assert.ok(open(0, headerHalf) <= LIMITS.maxConnectionsPerAddress, `127.0.0.2 holds ${open(0, headerHalf)} connections`);
    assert.ok(open(0, headerHalf) > 0);
    assert.is(open(headerHalf, all.length), bodyHalf, 'an address under its cap keeps its connections');

    // a normal client is answered while they are held
    for (let i = 0; i < 5; i++) assert.is(await get(server.port), '200');

    assert.ok(await until(() => all.every((h) => h.closed), CLOSED_WITHIN_MS), `${all.filter((h) => !h.closed).length} half-open connections still open`);
    // the server timed them out (408), it did not just drop them
    assert.ok(all.slice(headerHalf).every((h) => h.received.startsWith('HTTP/1.1 408')), 'body trickles end with 408');
    assert.is(await get(server.port), '200');
    assert.equal(logs.filter((l) => l.level === 'error'), [], 'timed-out requests are no errors');
  } finally {
    for (const h of all) h.socket.destroy();
    await server.close(1_000);
  }
});

test('within the limits, a slow but steady body and keep-alive requests are served', async () => {
  const server = await startServer(app, { host: '127.0.0.1', port: 0, limits: LIMITS });
  try {
    const body = '{"userId":"u1","event":"Slow"}';
    const held = await hold(server.port, '127.0.0.4', `${TRACK}Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    for (const part of [body.slice(10, 20), body.slice(20)]) {
      await sleep(500);
      held.socket.write(part);
    }
    assert.ok(await until(() => held.received.includes('{"success":true}'), 5_000), held.received);
    held.socket.destroy();
  } finally {
    await server.close(1_000);
  }
});

test.run();
