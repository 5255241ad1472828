/** Tests for startServer: binding, a busy port as a named error, graceful close that lets in-flight requests finish. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Hono } from 'hono';
import { startServer, ServerListenError } from '../../api/serve.ts';

function slowApp(gate: Promise<void>): Hono {
  const app = new Hono();
  app.get('/fast', (c) => c.text('ok'));
  app.get('/slow', async (c) => {
    await gate;
    return c.text('done');
  });
  return app;
}

test('listens on 127.0.0.1 with a free port and reports the bound url', async () => {
  const server = await startServer(slowApp(Promise.resolve()), { host: '127.0.0.1', port: 0 });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(server.port > 0);
  assert.is(await (await fetch(`${server.url}/fast`)).text(), 'ok');
  await server.close();
});

test('a busy port is a ServerListenError, not a crash', async () => {
  const first = await startServer(slowApp(Promise.resolve()), { host: '127.0.0.1', port: 0 });
  const error = await startServer(slowApp(Promise.resolve()), { host: '127.0.0.1', port: first.port }).catch((e: unknown) => e);
  assert.instance(error, ServerListenError);
  assert.match((error as Error).message, /EADDRINUSE|address already in use/);
  await first.close();
});

test('close lets an in-flight request finish, then refuses new connections', async () => {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const server = await startServer(slowApp(gate), { host: '127.0.0.1', port: 0 });
  const inFlight = fetch(`${server.url}/slow`).then((res) => res.text());
  await new Promise((resolve) => setTimeout(resolve, 50));
  let closed = false;
  const closing = server.close(5_000).then(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.not.ok(closed);
  open();
  assert.is(await inFlight, 'done');
  await closing;
  assert.ok(closed);
  const refused = await fetch(`${server.url}/fast`).then(
    () => false,
    () => true,
  );
  assert.ok(refused);
});

test('close gives up on a stuck request after the timeout', async () => {
  const server = await startServer(slowApp(new Promise(() => undefined)), { host: '127.0.0.1', port: 0 });
  const stuck = fetch(`${server.url}/slow`).then(
    () => 'answered',
    () => 'cut',
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = Date.now();
  await server.close(200);
  assert.ok(Date.now() - started < 2_000);
  assert.is(await stuck, 'cut');
});

test.run();
