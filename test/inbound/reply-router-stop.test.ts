import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStopSignal } from '../../src/inbound/reply-router';

// A real SDK client towards a loopback port that accepts and never answers: calls stay in flight.
describe("the router's stop signal", () => {
  let client: Client;
  let close: () => void;

  beforeAll(async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
    client = new Client({ connection });
    close = () => {
      void connection.close();
      silent.close();
    };
  });
  afterAll(() => close());

  const oneCall = () =>
    client.withDeadline(Date.now() + 100, () => client.workflowService.getSystemInfo({})).catch(() => undefined);

  it('keeps no listener on the long-lived signal once a routing is over', async () => {
    const stop = new AbortController();
    for (let i = 0; i < 25; i++) await withStopSignal(client, stop.signal, oneCall);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('still cancels a call in flight when the router stops', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const call = withStopSignal(client, stop.signal, () => client.workflowService.getSystemInfo({}));
    setTimeout(() => stop.abort(), 50);
    await expect(call).rejects.toThrow(/cancel/i);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cancels at once under a signal that has already stopped', async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(withStopSignal(client, stop.signal, () => client.workflowService.getSystemInfo({}))).rejects.toThrow(
      /cancel/i,
    );
  });
});
