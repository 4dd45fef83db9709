// A unix socket in the sandboxes' forward dir that relays each connection to squid's TCP port on the
// host's loopback (squid cannot listen on a unix socket). dockside-init serves the socket inside.
import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

export type Relay = { close: () => Promise<void> };

/** `port()` is asked per connection: squid may have come back on another port. */
export async function startRelay(socketPath: string, port: () => number | undefined): Promise<Relay> {
  rmSync(socketPath, { force: true });
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const target = port();
    if (!target) return void client.destroy();
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Sandboxes connect as their own root, an id unknown to the host: open to all, set by libuv.
    server.listen({ path: socketPath, readableAll: true, writableAll: true }, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
