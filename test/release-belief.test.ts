/**
 * The agent's release belief (src/agent/release-belief.ts) against the
 * in-process emulator of each release: the classifier spelling learned from
 * the status or by one fallback without side effects, the family and why,
 * and the status of later releases read as before (unknown keys, mixed
 * component types on one core).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ReleaseAwareSppCtl, type ReleaseBelief } from '../src/agent/release-belief';
import { planLayout } from '../src/plan/planner';
import { hostLayout } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';
import { parseInput, replay } from '../src/replay';
import { inProcessTransport, SppCtlClient } from '../src/sppctl/client';
import type { SppCommand } from '../src/sppctl/commands';
import { createEmulator, type Emulator } from '../src/sppctl/emulator';
import { familyFromStatus, parseSppVfError, type SppRelease } from '../src/sppctl/releases';
import { FIXTURES } from './helpers/fixtures';

const CLASSIFIER: SppCommand = { op: 'component_start', secId: 1, name: 'classifier', core: 6, type: 'classifier_mac' };

function setup(sppVersion: SppRelease, vfs = 1): { emu: Emulator; api: ReleaseAwareSppCtl; changes: Array<[number, ReleaseBelief]> } {
  const emu = createEmulator({ vfs: Array.from({ length: vfs }, (_, i) => ({ secId: i + 1, coreMask: '0x1fe' })), sppVersion });
  const changes: Array<[number, ReleaseBelief]> = [];
  const api = new ReleaseAwareSppCtl(new SppCtlClient(inProcessTransport(emu)), (secId, b) => changes.push([secId, b]));
  return { emu, api, changes };
}

const posts = (emu: Emulator): string[] =>
  emu
    .log()
    .filter((e) => e.method === 'POST')
    .map((e) => `${(JSON.parse(e.body!) as { type: string }).type} ${e.status}`);

test('18.08: the status has no master-lcore, so classifier_mac is certain and sent once', async (t) => {
  const { emu, api } = setup('18.08');
  await api.vfStatus(1);
  t.like(api.belief(1), { family: '<=18.08.2', basis: 'status', classifierType: 'classifier_mac' });
  await api.send(CLASSIFIER);
  t.deepEqual(posts(emu), ['classifier_mac 204']);
});

test('18.08.3: master-lcore and an accepted classifier_mac make it 18.08.3', async (t) => {
  const { emu, api } = setup('18.08.3');
  await api.vfStatus(1);
  t.like(api.belief(1), { family: '>=18.08.3', basis: 'status' });
  t.is(api.belief(1).classifierType, undefined);
  await api.send(CLASSIFIER);
  t.deepEqual(posts(emu), ['classifier_mac 204']);
  t.like(api.belief(1), { family: '18.08.3', basis: 'start-accepted', classifierType: 'classifier_mac' });
  t.regex(api.belief(1).reason, /accepted a component of type classifier_mac; the status has master-lcore/);
  // a later status (the classifier now running) confirms it
  await api.vfStatus(1);
  t.like(api.belief(1), { family: '18.08.3', basis: 'status' });
});

test('19.11 from an empty vf: classifier_mac is refused (500, nothing started), classifier accepted; the next vf of that spp-ctl is asked with classifier first', async (t) => {
  const { emu, api, changes } = setup('19.11', 2);
  await api.send(CLASSIFIER);
  t.deepEqual(posts(emu), ['classifier_mac 500', 'classifier 204']);
  t.like(api.belief(1), { family: '>=18.08.4', basis: 'start-fallback', classifierType: 'classifier' });
  t.regex(api.belief(1).reason, /refused the type classifier_mac \(500\) and accepted classifier/);
  t.deepEqual(
    emu
      .vf(1)
      .status()
      .components.flatMap((c) => ('name' in c ? [`${c.name}:${c.type}`] : [])),
    ['classifier:classifier'],
  );
  emu.clearLog();
  await api.send({ ...CLASSIFIER, secId: 2 });
  t.deepEqual(posts(emu), ['classifier 204']);
  t.deepEqual(
    changes.map(([id, b]) => `${id} ${b.family}`),
    ['1 >=18.08.4', '2 >=18.08.4'],
  );
});

test('lenient (the intended 400 invalid key(type)): the fallback works as on the 500', async (t) => {
  const emu = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], sppVersion: '19.11', lenient: true });
  const api = new ReleaseAwareSppCtl(new SppCtlClient(inProcessTransport(emu)));
  await api.send(CLASSIFIER);
  t.deepEqual(posts(emu), ['classifier_mac 400', 'classifier 204']);
  t.regex(api.belief(1).reason, /refused the type classifier_mac \(400\)/);
});

test('18.08 after a 19.11 guess: classifier is refused and classifier_mac accepted', async (t) => {
  const { emu, api } = setup('18.08', 2);
  // as if an earlier vf of this spp-ctl had taught `classifier`
  (api as unknown as { guess: string }).guess = 'classifier';
  await api.send(CLASSIFIER);
  t.deepEqual(posts(emu), ['classifier 500', 'classifier_mac 204']);
  t.like(api.belief(1), { family: '<=18.08.3', classifierType: 'classifier_mac' });
});

test('a spelling seen in the status is certain: a 500 then is not retried with the other spelling', async (t) => {
  const { emu, api } = setup('18.08.4');
  await api.send(CLASSIFIER);
  await api.vfStatus(1);
  t.like(api.belief(1), { family: '>=18.08.4', basis: 'status', classifierType: 'classifier' });
  emu.clearLog();
  emu.addFault({ path: 'components$', method: 'POST' });
  const err = await t.throwsAsync(api.send({ ...CLASSIFIER, name: 'classifier2' }));
  t.regex(err!.message, /500/);
  t.deepEqual(posts(emu), ['classifier 500']);
});

test('an SPP upgraded under a running agent (18.08.3 to 19.11, the vf restarted empty): the spelling learned before is tried, then the other', async (t) => {
  const old = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], sppVersion: '18.08.3' });
  const current = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], sppVersion: '19.11' });
  let behind = old;
  const client = (e: Emulator): SppCtlClient => new SppCtlClient(inProcessTransport(e));
  const api = new ReleaseAwareSppCtl({
    processes: () => client(behind).processes(),
    vfStatus: (id) => client(behind).vfStatus(id),
    send: (cmd) => client(behind).send(cmd),
    mirrorStatus: (id) => client(behind).mirrorStatus(id),
    sendMirror: (cmd) => client(behind).sendMirror(cmd),
  });
  await api.send(CLASSIFIER);
  await api.vfStatus(1);
  t.like(api.belief(1), { family: '18.08.3', basis: 'status', classifierType: 'classifier_mac' });
  behind = current;
  await api.vfStatus(1);
  t.like(api.belief(1), { family: '18.08.3', classifierType: 'classifier_mac' }, 'master-lcore and no classifier: nothing new');
  await api.send(CLASSIFIER);
  t.deepEqual(posts(current), ['classifier_mac 500', 'classifier 204']);
  t.like(api.belief(1), { family: '>=18.08.4', basis: 'start-fallback', classifierType: 'classifier' });
});

test('both spellings refused: the first error is thrown and no spelling is learned', async (t) => {
  const { emu, api } = setup('18.08');
  emu.addFault({ path: 'components$', method: 'POST', count: 2 });
  await t.throwsAsync(api.send(CLASSIFIER), { message: /POST \/v1\/vfs\/1\/components: 500/ });
  t.deepEqual(posts(emu), ['classifier_mac 500', 'classifier 500']);
  t.is(api.belief(1).classifierType, undefined);
});

test("an error in 18.08.3's words tells an unknown vf is 18.08.3 or later; both error styles are read", async (t) => {
  const { api } = setup('18.08.3');
  await t.throwsAsync(api.send({ op: 'port_attach', secId: 1, component: 'nobody', port: 'ring:0', dir: 'rx' }));
  t.like(api.belief(1), { family: '>=18.08.3', basis: 'error-text' });
  // with the spelling known (classifier_mac accepted, no status read), 18.08.3's words make it exactly 18.08.3
  const other = setup('18.08.3');
  await other.api.send(CLASSIFIER);
  t.like(other.api.belief(1), { family: '<=18.08.3', classifierType: 'classifier_mac' });
  await t.throwsAsync(other.api.send({ op: 'port_attach', secId: 1, component: 'nobody', port: 'ring:0', dir: 'rx' }));
  t.like(other.api.belief(1), { family: '18.08.3', basis: 'error-text', classifierType: 'classifier_mac' });
  t.deepEqual(parseSppVfError('command error: bad value(port rxtx)'), { kind: 'bad-value', param: 'port rxtx', style: 'bad-value' });
  t.deepEqual(parseSppVfError('command error: Invalid value (port rxtx)'), { kind: 'bad-value', param: 'port rxtx', style: 'invalid-value' });
  t.deepEqual(parseSppVfError('Wrong message format'), { kind: 'bad-format', style: 'invalid-value' });
  t.deepEqual(parseSppVfError('bad message format'), { kind: 'bad-format', style: 'bad-value' });
  t.deepEqual(parseSppVfError('error occur'), { kind: 'error-occur' });
  t.is(parseSppVfError('something else'), undefined);
});

test('a later status is read as before: master-lcore ignored, mixed types and several components on one core keyed by name', async (t) => {
  const emu = createEmulator({ vfs: [{ secId: 1, coreMask: '0x3e' }], sppVersion: '19.11', rings: 8 });
  for (const cmd of ['component start merger 2 merge', 'component start classifier 2 classifier', 'component start forward_0_tx 2 forward']) {
    t.regex(JSON.stringify(emu.vf(1).execute(cmd)), /success/);
  }
  const client = new SppCtlClient(inProcessTransport(emu));
  const status = await client.vfStatus(1);
  t.is((status as unknown as Record<string, unknown>)['master-lcore'], 1);
  t.deepEqual(familyFromStatus(status).family, '>=18.08.4');
  const parsed = parseMappings('00:04.0#phys1#1#0x3e');
  const [nic] = hostLayout(parsed.configuration!);
  const plan = planLayout(nic!, status);
  // the three running components are not started again, whatever their core; the others are
  t.deepEqual(
    plan.filter((c) => c.op === 'component_start').map((c) => (c as { name: string }).name),
    ['forward_0_rx'],
  );
});

test('the replay sets up recorded statuses of a later SPP (classifier, master-lcore) and spells the classifier as they do', async (t) => {
  const mappings = parseMappings('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02').configuration!;
  const emu = createEmulator({ mappings, sppVersion: '19.11' });
  const api = new ReleaseAwareSppCtl(new SppCtlClient(inProcessTransport(emu)));
  const [nic] = hostLayout(mappings);
  for (const cmd of planLayout(nic!, await api.vfStatus(1))) await api.send(cmd);
  const recorded = await api.vfStatus(1);
  t.is((recorded as unknown as Record<string, unknown>)['master-lcore'], 1);
  const fixture = join(FIXTURES, 'seed-fresh.etcdctl.txt');
  const report = await replay([parseInput(readFileSync(fixture, 'utf8'), 'seed-fresh')], { jobs: 1, observed: new Map([[1, recorded]]) });
  const host = report.hosts[0]!;
  // vf 1 runs its layout already; vf 2 is built, its classifier spelled as vf 1's
  t.true(host.commands.includes('vf 2: component start classifier 14 classifier'), host.commands.join('\n'));
  t.false(host.commands.some((c) => c.startsWith('vf 1:')));
});
