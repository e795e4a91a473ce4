/**
 * What the original Python mechanism driver writes, key by key, so agent
 * tests exercise exactly the wire protocol neutron uses (the TypeScript
 * driver client is tested separately).
 */
import type { Etcd3 } from 'etcd3';
import { claimAndBind, type OriginalPort, setAction } from '../../src/driver/original-writes';
import { keys } from '../../src/protocol/keys';
import { until } from './wait';

export type PyPort = OriginalPort;

/** Claim (compare-and-swap None -> port), bind_port, then action = plug: the driver's order. */
export async function pyBind(client: Etcd3, host: string, p: PyPort): Promise<void> {
  await claimAndBind(client, host, p);
  await setAction(client, host, p.portId, 'plug');
}

export async function pyUnbind(client: Etcd3, host: string, portId: string): Promise<void> {
  await setAction(client, host, portId, 'unplug');
}

/** Polls until `check` holds for the value of `key` (undefined when absent). */
export async function waitForValue(client: Etcd3, key: string, check: (value: string | undefined) => boolean, timeoutMs = 10_000): Promise<string | undefined> {
  let last: string | undefined;
  const held = await until(
    async () => {
      last = (await client.get(key).string()) ?? undefined;
      return check(last) && { value: last };
    },
    () => `${key} (last value ${JSON.stringify(last)})`,
    timeoutMs,
  );
  return held.value;
}

export const waitUp = (client: Etcd3, host: string, portId: string, timeoutMs?: number): Promise<string | undefined> =>
  waitForValue(client, keys.portStatus(host, portId), (v) => v === 'up', timeoutMs);

export const waitGone = (client: Etcd3, host: string, portId: string, timeoutMs?: number): Promise<string | undefined> =>
  waitForValue(client, keys.action(host, portId), (v) => v === undefined, timeoutMs);
