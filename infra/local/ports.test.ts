import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, isPortFree } from './ports.js';

describe('ports', () => {
  it('freePort returns a bindable port, distinct across calls', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    for (const p of ports) expect(p).toBeGreaterThan(0);
    expect(new Set(ports).size).toBe(3);
    expect(await isPortFree(ports[0])).toBe(true);
  });

  it('isPortFree is false while something listens', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(port)).toBe(false);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await isPortFree(port)).toBe(true);
  });
});
