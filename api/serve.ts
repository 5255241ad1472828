/** Serves a Hono app with @hono/node-server on a host and port, and closes it gracefully. */
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Hono } from 'hono';

export class ServerListenError extends Error {
  constructor(message: string, options: { readonly cause: unknown }) {
    super(message, options);
    this.name = 'ServerListenError';
  }
}

export interface RunningServer {
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  readonly url: string;
  readonly port: number;
  /**
   * Stops accepting connections, lets in-flight requests finish (idle keep-alive connections are
   * closed at once), and after `timeoutMs` cuts the connections still open.
   */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * How long a client may take and how many connections it may hold, so half-open connections
 * (slowloris) cannot lock other clients out: each is closed once its time is up, and past the caps
 * new connections are dropped at once. 0 turns a cap off.
 */
export interface ServerLimits {
  /** ms to send a request's headers (also bounds a connection that sends nothing); then 408 and closed. */
  readonly headersTimeoutMs: number;
  /** ms to send a whole request, headers and body; then 408 and closed. At least `headersTimeoutMs`. */
  readonly requestTimeoutMs: number;
  /** ms an idle keep-alive connection stays open between requests. */
  readonly keepAliveTimeoutMs: number;
  /** open connections in all; more are dropped. */
  readonly maxConnections: number;
  /** open connections from one client address, so one client cannot take them all; more are dropped. */
  readonly maxConnectionsPerAddress: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
};

export async function startServer(app: Hono, options: { readonly host: string; readonly port: number; readonly limits?: ServerLimits }): Promise<RunningServer> {
  const limits = options.limits ?? DEFAULT_SERVER_LIMITS;
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  // createAdaptorServer rather than serve(): serve() listens with no error handler, so a busy port would crash the process.
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: {
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // node checks the two timeouts only this often (default 30 s): keep it well under them
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
  }) as Server;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  if (limits.maxConnectionsPerAddress > 0) capPerAddress(server, limits.maxConnectionsPerAddress);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(new ServerListenError(`cannot listen on ${options.host}:${options.port}: ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close(timeoutMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Drops a new connection when its address already holds `max`: one client cannot fill `maxConnections` alone. */
function capPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = open.get(address) ?? 0;
    if (n >= max) {
      socket.destroy();
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
