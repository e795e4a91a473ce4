/**
 * The status size `spp config build` checks (src/setup/status-size.ts) is
 * the size of the status an emulated spp_vf of that release returns once the
 * agent's planner has built the layout and plugged every vhost.
 */
import test from 'ava';
import { ReleaseAwareSppCtl } from '../src/agent/release-belief';
import { planLayout, planVhost } from '../src/plan/planner';
import { hostLayout } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';
import { checkStatusSize, hostStatusSizes } from '../src/setup/status-size';
import { inProcessTransport, SppCtlClient } from '../src/sppctl/client';
import { createEmulator } from '../src/sppctl/emulator';
import { SPP_RELEASES } from '../src/sppctl/releases';

const config = (vhosts: number) => parseMappings(`00:04.0#phys1#${vhosts}#0x${((1n << BigInt(2 * vhosts + 3)) - 1n).toString(16)}`).configuration!;

test('the measured size is the byte length of the emulated status after the agent built and plugged every vhost (each release)', async (t) => {
  const c = config(4);
  const [nic] = hostLayout(c);
  for (const release of SPP_RELEASES) {
    const emu = createEmulator({ mappings: c, sppVersion: release });
    const api = new ReleaseAwareSppCtl(new SppCtlClient(inProcessTransport(emu)));
    for (const cmd of planLayout(nic!, await api.vfStatus(1))) await api.send(cmd);
    for (const v of nic!.vhostIds)
      for (const cmd of planVhost(nic!, v, { mac: 'fa:16:3e:00:00:0a', vlan: 1000 + v }, await api.vfStatus(1))) await api.send(cmd);
    t.is(hostStatusSizes(c, release)[0]!.bytes, Buffer.byteLength(emu.vf(1).reply('status')!), release);
  }
});

test('5 vhosts fit on every release, 6 do not before 19.11: refused for a known release, a warning for an unknown one', (t) => {
  for (const release of SPP_RELEASES) t.deepEqual(checkStatusSize(config(5), release), { errors: [], warnings: [] }, release);
  t.deepEqual(checkStatusSize(config(5), undefined), { errors: [], warnings: [] });
  for (const release of SPP_RELEASES) {
    const r = checkStatusSize(config(6), release);
    if (release === '19.11') t.deepEqual(r, { errors: [], warnings: [] });
    else {
      t.is(r.errors.length, 1, release);
      t.true(r.errors[0]!.startsWith('NIC 0 (00:04.0): '), r.errors[0]);
      t.true(r.errors[0]!.includes(`on SPP ${release} (HTTP 500`), r.errors[0]);
    }
  }
  const unknown = checkStatusSize(config(6), undefined);
  t.deepEqual(unknown.errors, []);
  t.regex(unknown.warnings[0]!, /^NIC 0 \(00:04\.0\): .* is 4725 bytes; .* on SPP 18\.08 to 19\.08 \(fixed in 19\.11\)/);
});
