/**
 * What the agent logs per plug at info: one line per step (the acted-on
 * event, each spp-ctl command, the outcome), each naming host, port, vhost
 * and revision; the machine transition that only repeats the outcome line is
 * at debug.
 */
import test from 'ava';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { nicsReady, startSystem, until } from './helpers/system';

const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const MAC = 'fa:16:3e:a0:da:db';

test('a flat plug and unplug: three info lines each, the outcome lines carry the revision; the repeated transitions at debug', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  const from = s.logs.length;
  await pyBind(s.client, s.host, { portId: PORT, vhostId: 0, phys: 'phys1', mac: MAC });
  await waitUp(s.client, s.host, PORT);
  await pyUnbind(s.client, s.host, PORT);
  await waitGone(s.client, s.host, PORT);
  // the unplug's last transition (to idle) follows the keys' deletion
  await until(() => s.logs.slice(from).some((r) => r.port === PORT && r.message === 'port state' && r.state === 'idle'), 'the port machine at rest');

  const mine = s.logs.slice(from).filter((r) => r.port === PORT || r.message === 'spp-ctl command');
  const info = mine.filter((r) => r.level === 'info');
  t.deepEqual(
    info.map((r) => [r.message, r.state ?? r.command ?? null]),
    [
      ['port state', 'plugging'],
      ['spp-ctl command', `vf 1: classifier_table add mac ${MAC} ring:0`],
      ['port is up', null],
      ['port state', 'unplugging'],
      ['spp-ctl command', `vf 1: classifier_table del mac ${MAC} ring:0`],
      ['port unplugged', null],
    ],
  );
  for (const r of info.filter((x) => x.message !== 'spp-ctl command')) {
    t.is(r.host, s.host, `${String(r.message)} names the host`);
    t.is(r.vhost, 0, `${String(r.message)} names the vhost`);
    t.true(typeof r.revision === 'number' && r.revision > 0, `${String(r.message)} names the revision`);
  }
  const [plugging, , up, unplugging, , unplugged] = info;
  t.is(up!.revision, plugging!.revision, 'port is up: the revision the plug acted on');
  t.is(unplugged!.revision, unplugging!.revision, 'port unplugged: the revision the unplug acted on');
  const debugStates = mine.filter((r) => r.level === 'debug' && r.message === 'port state').map((r) => r.state);
  t.true(debugStates.includes('plugged.reasserting'), `debug transitions: ${debugStates.join(', ')}`);
  t.true(debugStates.includes('removed') || debugStates.includes('idle'), `debug transitions: ${debugStates.join(', ')}`);
});

test('a restart with plugged ports on empty vfs: ports wait for their NIC (no failed run, no warning) and come up', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  await pyBind(s.client, s.host, { portId: PORT, vhostId: 0, phys: 'phys1', mac: MAC });
  await waitUp(s.client, s.host, PORT);
  await s.stopAgent();
  // spp_vf restarted too: the agent must build the NIC again before the port can be plugged
  await s.restartSim(0);
  const from = s.logs.length;
  s.startAgent();
  await nicsReady(s);
  await until(() => s.logs.slice(from).some((r) => r.port === PORT && r.message === 'port is up'), 'port is up after the restart');

  const states = s.logs.slice(from).filter((r) => r.port === PORT && r.message === 'port state');
  t.deepEqual(
    states.map((r) => `${String(r.level)} ${String(r.state)}`).slice(0, 2),
    ['info waitingForNic', 'info plugging'],
    'the port waits for its NIC, then plugs once',
  );
  t.is(states.filter((r) => r.state === 'plugging').length, 1, 'one run: none failed on a NIC still being built');
  t.false(
    s.logs.slice(from).some((r) => r.level === 'warn' || r.level === 'error'),
    `no warning or error in a routine restart: ${JSON.stringify(s.logs.slice(from).filter((r) => r.level === 'warn' || r.level === 'error'))}`,
  );
});
