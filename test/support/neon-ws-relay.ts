/**
 * A WebSocket-to-TCP relay, the local stand-in for Neon's WebSocket proxy, so
 * that the `Pool` and `Client` of `@neondatabase/serverless` (and
 * `drizzle-orm/neon-serverless`) speak the PostgreSQL wire protocol to the
 * real server of the test run over WebSockets.
 *
 * The driver opens `ws://<wsProxy>?address=<host>:<port>` and sends the raw
 * protocol bytes as binary messages; the relay pipes them both ways. Only
 * targets on 127.0.0.1 are relayed.
 *
 * Configure the driver with {@link NeonWebSocketRelay.configure}:
 * `wsProxy`, `useSecureWebSocket = false`, `pipelineConnect = false`, and the
 * `ws` constructor where no global `WebSocket` exists.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { neonConfig as NeonConfig } from '@neondatabase/serverless';

export interface NeonWebSocketRelay {
  /** `host:port/v2`, the value for `neonConfig.wsProxy`. */
  readonly wsProxy: string;
  /** How many WebSocket connections were relayed so far. */
  readonly connections: number;
  /** Points the driver's global configuration at this relay. */
  configure(config: typeof NeonConfig): void;
  /** Closes every relayed connection and the server. */
  close(): Promise<void>;
}

const ALLOWED_HOSTS = new Set(['127.0.0.1', 'localhost']);

/** Starts the relay on 127.0.0.1 and an ephemeral port. */
export async function startNeonWebSocketRelay(): Promise<NeonWebSocketRelay> {
  const http: Server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' });
    response.end('WebSocket upgrade required');
  });
  const wss = new WebSocketServer({ server: http, path: '/v2' });
  const tcpSockets = new Set<Socket>();
  let connections = 0;

  wss.on('connection', (ws, request) => {
    const address = new URL(request.url ?? '/', 'ws://relay').searchParams.get('address') ?? '';
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator);
    const port = Number(address.slice(separator + 1));
    if (separator < 1 || !ALLOWED_HOSTS.has(host) || !Number.isInteger(port) || port < 1 || port > 65_535) {
      ws.close(1008, 'address not allowed');
      return;
    }
    connections++;
    const tcp = connect({ host, port });
    tcpSockets.add(tcp);
    tcp.setNoDelay(true);
    // Bytes the client sends before the TCP connection is up are queued by the socket.
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      tcp.write(chunk);
    });
    tcp.on('data', (chunk) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(chunk);
    });
    const shutDown = (): void => {
      tcpSockets.delete(tcp);
      tcp.destroy();
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
    };
    tcp.on('error', shutDown);
    tcp.on('close', shutDown);
    ws.on('close', shutDown);
    ws.on('error', shutDown);
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const wsProxy = `127.0.0.1:${port}/v2`;

  return {
    wsProxy,
    get connections() {
      return connections;
    },
    configure(config) {
      config.wsProxy = wsProxy;
      config.useSecureWebSocket = false;
      config.pipelineConnect = false;
      config.pipelineTLS = false;
      if (typeof globalThis.WebSocket === 'undefined') config.webSocketConstructor = WebSocket;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const tcp of tcpSockets) tcp.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
