/**
 * A compute node with TaaS for the tests of the taps' surfaces (page,
 * explain, report, metrics, replay) and of the interop: the seed host set up in the final format with two
 * mirrors, the emulator's spp_mirror 3, a service port on vhost 1 (spp_vf 1)
 * and a source port on vhost 2 (spp_vf 2), both up, the mirror ready.
 */
import type { ExecutionContext } from 'ava';
import type { RawSettings } from '../../src/daemon/settings';
import { createTap } from '../../src/driver';
import { pythonJson } from '../../src/protocol/codecs';
import { keys } from '../../src/protocol/keys';
import { pyBind, waitForValue, waitUp } from './neutron';
import { type System, startSystem, until } from './system';

export const MIRROR_SEC = 3;

export interface TapPorts {
  readonly service: { portId: string; vhostId: number; phys: string; mac: string };
  readonly source: { portId: string; vhostId: number; phys: string; mac: string };
}

/** Port ids under a prefix of the test's own (`b0000000`): tests on one etcd never share them. */
export function tapPorts(prefix: string): TapPorts {
  return {
    service: { portId: `${prefix}-0000-0000-0000-00000000000d`, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:00:d1' },
    source: { portId: `${prefix}-0000-0000-0000-00000000000s`, vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:00:51' },
  };
}

export async function startTapSystem(t: ExecutionContext, ports: TapPorts, settings: RawSettings): Promise<System> {
  const s = await startSystem(t, {
    build: { format: 'final', mirrors: { count: 2, coreMask: '0x30001' } },
    emulator: { mirrors: [{ secId: MIRROR_SEC, coreMask: '0x30001' }] },
    settings,
  });
  for (const p of [ports.service, ports.source]) await pyBind(s.client, s.host, p);
  for (const p of [ports.service, ports.source]) await waitUp(s.client, s.host, p.portId);
  await until(() => s.agent?.controller.view().mirror?.tags.includes('up') === true, 'the mirror ready');
  return s;
}

/** `spp tap create --wait` as the driver does it; fails the test unless the flow comes up. */
export async function createUpTap(t: ExecutionContext, s: System, ports: TapPorts, tapFlowId: string, direction: 'IN' | 'OUT' | 'BOTH'): Promise<void> {
  const created = await createTap(s.client, {
    host: s.host,
    tapFlowId,
    servicePort: ports.service.portId,
    sourcePort: ports.source.portId,
    direction,
    wait: true,
    timeoutMs: 15_000,
  });
  t.is(created.outcome, 'up');
}

/**
 * A second flow on the same source port in `dir`, with mirror 1 claimed for
 * it, written as the driver would: the agent reports it failed. Resolves
 * with its tap_status.
 */
export async function conflictingTap(s: System, ports: TapPorts, tapFlowId: string, dir: 'IN' | 'OUT'): Promise<string> {
  await s.client.put(keys.mirror(s.host, 1)).value(tapFlowId);
  const info = {
    service_port: ports.service.portId,
    source_port: ports.source.portId,
    mirror_in: dir === 'IN' ? 1 : null,
    mirror_out: dir === 'OUT' ? 1 : null,
  };
  await s.client.put(keys.tapInfo(s.host, tapFlowId)).value(pythonJson(info));
  await s.client.put(keys.tapAction(s.host, tapFlowId)).value('plug');
  return (await waitForValue(s.client, keys.tapStatus(s.host, tapFlowId), (v) => v?.startsWith('error:') === true))!;
}
