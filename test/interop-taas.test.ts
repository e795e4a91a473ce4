/**
 * TaaS interop at the wire (no Python here): the final networking-spp TaaS
 * service driver's writes, restated in src/driver/original-writes.ts, drive
 * our agent to tap_status = up and back to no keys; and `spp tap create` /
 * `delete` (src/driver/tap.ts) make byte for byte the same etcd writes, in
 * the same order, as the restated driver, so the final Python agent reads
 * them as it reads neutron's.
 */
import test, { type ExecutionContext } from 'ava';
import type { Etcd3 } from 'etcd3';
import { createTap, deleteTap } from '../src/driver';
import { OriginalTaasError, type OriginalTapFlow, originalCreateTapFlow, originalDeleteTapFlow } from '../src/driver/original-writes';
import { keys, ROOT } from '../src/protocol/keys';
import { withEtcd } from './helpers/etcd';
import { currentRevision, watchHistory } from './helpers/history';
import { waitForValue } from './helpers/neutron';
import { until } from './helpers/system';
import { startTapSystem, tapPorts } from './helpers/tap-system';

const PORTS = tapPorts('a0000000');
const { service: SERVICE, source: SOURCE } = PORTS;

test("the restated service driver's create and delete drive our agent to tap_status = up, then to no keys and free mirrors", async (t) => {
  const s = await startTapSystem(t, PORTS, {});
  const tf = 'b6ad1a5e-0000-4000-8000-0000000000f1';
  const claimed = await originalCreateTapFlow(s.client, s.host, { tapFlowId: tf, servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'BOTH' });
  t.deepEqual(claimed, { mirrorIn: 0, mirrorOut: 1 });
  t.is(await waitForValue(s.client, keys.tapStatus(s.host, tf), (v) => v !== undefined, 15_000), 'up');
  t.true(
    s
      .agent!.controller.view()
      .taps!.find((f) => f.flowId === tf)!
      .tags.includes('up'),
  );
  t.deepEqual(s.agent!.controller.view().taps!.find((f) => f.flowId === tf)!.direction, 'BOTH');

  await originalDeleteTapFlow(s.client, s.host, tf);
  for (const key of [keys.tapInfo(s.host, tf), keys.tapAction(s.host, tf), keys.tapStatus(s.host, tf)])
    t.is(await waitForValue(s.client, key, (v) => v === undefined, 15_000), undefined, key);
  for (const k of [0, 1]) t.is(await s.client.get(keys.mirror(s.host, k)).string(), 'None');
  // a delete of a flow already gone writes nothing, as the driver
  const before = await currentRevision(s.client);
  await originalDeleteTapFlow(s.client, s.host, tf);
  t.is(await currentRevision(s.client), before);
});

const HOST = 'spp4';

/** A host's keys as the writes start from: both ports bound, mirrors 0-10 with 0 and 1 claimed by other flows (lexical order: 10 is free first). */
async function seed(client: Etcd3, mirrorsFree: readonly number[]): Promise<void> {
  await client.delete().prefix(ROOT);
  await client.put(keys.bindPort(HOST, SERVICE.portId)).value(`{"vhost_id": 1, "mac_address": "${SERVICE.mac}"}`);
  await client.put(keys.bindPort(HOST, SOURCE.portId)).value(`{"vhost_id": 2, "mac_address": "${SOURCE.mac}"}`);
  for (let k = 0; k <= 10; k++) await client.put(keys.mirror(HOST, k)).value(mirrorsFree.includes(k) ? 'None' : `other-${k}`);
}

/** The writes `run` makes, as `put key = value` / `delete key` lines in etcd's order. */
async function writesOf(client: Etcd3, run: () => Promise<unknown>): Promise<string[]> {
  const from = (await currentRevision(client)) + 1;
  await run().catch(() => undefined);
  const to = await currentRevision(client);
  const history = await watchHistory(client, ROOT, { fromRevision: from });
  await until(() => to < from || history.changes.some((c) => c.revision >= to), 'the writes to be watched');
  await history.close();
  return history.changes.map((c) => (c.type === 'put' ? `put ${c.key} = ${c.value}` : `delete ${c.key}`));
}

const FLOWS: readonly (OriginalTapFlow & { free: number[]; label: string })[] = [
  { label: 'IN', tapFlowId: 'tf-in', servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'IN', free: [2, 10] },
  { label: 'OUT', tapFlowId: 'tf-out', servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'OUT', free: [2, 10] },
  { label: 'BOTH', tapFlowId: 'tf-both', servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'BOTH', free: [2, 3, 10] },
  {
    label: 'BOTH with one mirror free (rolled back)',
    tapFlowId: 'tf-half',
    servicePort: SERVICE.portId,
    sourcePort: SOURCE.portId,
    direction: 'BOTH',
    free: [3],
  },
];

test('spp tap create and delete write byte for byte what the restated service driver writes, in its order (mirror key order 0, 1, 10, 2)', async (t: ExecutionContext) => {
  await withEtcd(t, async (_etcd, client) => {
    for (const f of FLOWS) {
      await seed(client, f.free);
      let refused: unknown;
      const theirs = await writesOf(client, () =>
        originalCreateTapFlow(client, HOST, f).catch((e: unknown) => {
          refused = e;
        }),
      );
      await seed(client, f.free);
      let ours: unknown;
      const mine = await writesOf(client, () =>
        createTap(client, {
          host: HOST,
          tapFlowId: f.tapFlowId,
          servicePort: f.servicePort,
          sourcePort: f.sourcePort,
          direction: f.direction,
          wait: false,
        }).catch((e: unknown) => {
          ours = e;
        }),
      );
      t.deepEqual(mine, theirs, f.label);
      t.true(theirs.length > 0, `${f.label}: the driver wrote something`);
      if (f.label.startsWith('BOTH with')) {
        t.true(refused instanceof OriginalTaasError && refused.exception === 'NoMirrorAvailable');
        t.truthy(ours, 'ours refuses too');
        t.deepEqual(theirs, [`put ${keys.mirror(HOST, 3)} = tf-half`, `put ${keys.mirror(HOST, 3)} = None`]);
      } else {
        t.is(refused, undefined);
        t.is(ours, undefined);
      }
      if (f.label === 'IN') {
        t.deepEqual(theirs, [
          `put ${keys.mirror(HOST, 10)} = tf-in`,
          `put ${keys.tapInfo(HOST, 'tf-in')} = {"service_port": "${SERVICE.portId}", "source_port": "${SOURCE.portId}", "mirror_in": 10, "mirror_out": null}`,
          `put ${keys.tapAction(HOST, 'tf-in')} = plug`,
        ]);
      }
      if (f.label === 'BOTH') t.is(theirs[1], `put ${keys.mirror(HOST, 2)} = tf-both`, 'after 10 comes 2');

      if (refused) continue;
      // delete: unplug while tap_action exists; nothing once it is gone
      const theirDelete = await writesOf(client, () => originalDeleteTapFlow(client, HOST, f.tapFlowId));
      await client.put(keys.tapAction(HOST, f.tapFlowId)).value('plug');
      const myDelete = await writesOf(client, () => deleteTap(client, { host: HOST, tapFlowId: f.tapFlowId, wait: false }));
      t.deepEqual(myDelete, theirDelete, `${f.label} delete`);
      t.deepEqual(theirDelete, [`put ${keys.tapAction(HOST, f.tapFlowId)} = unplug`]);
      await client.delete().key(keys.tapAction(HOST, f.tapFlowId));
      t.deepEqual(await writesOf(client, () => deleteTap(client, { host: HOST, tapFlowId: f.tapFlowId, wait: false })), []);
      t.deepEqual(await writesOf(client, () => originalDeleteTapFlow(client, HOST, f.tapFlowId)), []);
    }
  });
});
