/**
 * A loopback TCP relay in front of one etcd member, so a test can cut the
 * agent off from etcd while etcd itself keeps running (and compacting).
 */
import net from 'node:net';

export class TcpProxy {
  private readonly open = new Set<net.Socket>();
  private readonly clients = new Set<net.Socket>();
  private cutOff = false;

  private constructor(
    private readonly server: net.Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string): Promise<TcpProxy> {
    const [host, port] = target.split(':') as [string, string];
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => {
      if (!proxy || proxy.cutOff) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(port), host);
      const p = proxy;
      p.clients.add(client);
      client.on('close', () => p.clients.delete(client));
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.open.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          proxy?.open.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address() as net.AddressInfo;
    proxy = new TcpProxy(server, `127.0.0.1:${addr.port}`);
    return proxy;
  }

  /** Drops every relayed connection and refuses new ones until `restore()`. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.open) s.destroy();
  }

  /** Client connections relayed right now. */
  get connections(): number {
    return this.clients.size;
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
