/**
 * A TCP proxy that adds a fixed round-trip time between a client and
 * PostgreSQL: every chunk is held for half the round trip in each direction,
 * in order. Loopback hides what matters at the edge, where every round trip
 * to the database costs milliseconds.
 *
 * Listens on 127.0.0.1 only. Standalone:
 *   tsx bench/latency-proxy.ts --target-port 5432 [--rtt-ms 5] [--port 6543]
 */
import { createServer, connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface LatencyProxy {
  readonly port: number;
  readonly rttMs: number;
  close(): Promise<void>;
}

export interface LatencyProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Round-trip time to add, in milliseconds; 0 forwards at once. */
  rttMs?: number;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
}

/** Forwards `from` to `to`, each chunk delayed by `delayMs`, preserving order. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  if (delayMs <= 0) {
    from.pipe(to);
    return;
  }
  // One timer per chunk with the same delay: Node fires equal-delay timers in
  // insertion order, so the byte stream stays in order.
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
}

/** Starts the proxy on 127.0.0.1. */
export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const rttMs = options.rttMs ?? 5;
  if (!Number.isFinite(rttMs) || rttMs < 0) throw new RangeError('rttMs must be a non-negative number');
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = connect({ host: options.targetHost ?? '127.0.0.1', port: options.targetPort });
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    pipeDelayed(client, upstream, rttMs / 2);
    pipeDelayed(upstream, client, rttMs / 2);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    rttMs,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const targetPort = Number(argument('--target-port'));
  if (!Number.isInteger(targetPort) || targetPort <= 0) {
    console.error('usage: tsx bench/latency-proxy.ts --target-port PORT [--rtt-ms 5] [--port 0]');
    process.exit(2);
  }
  const proxy = await startLatencyProxy({
    targetPort,
    rttMs: Number(argument('--rtt-ms') ?? 5),
    port: Number(argument('--port') ?? 0),
  });
  console.log(`latency proxy 127.0.0.1:${proxy.port} -> 127.0.0.1:${targetPort}, ${proxy.rttMs} ms round trip`);
}
