/**
 * `sppVersion`: what an agent can see of each SPP release from 18.08 to 19.11
 * (upstream-final.md section 3), over real HTTP. 18.08 (the default) is the
 * spec's 8905dee, which emulator-rules.test.ts covers in full.
 */
import test from 'ava';
import { createEmulator } from '../src/sppctl/emulator';
import type { SppRelease } from '../src/sppctl/releases';
import { attach, call, classify, type Step, start, steps, useSim } from './helpers/emulator';
import { sleep } from './helpers/wait';

const sim = (t: Parameters<typeof useSim>[0], sppVersion?: SppRelease) => useSim(t, sppVersion ? { sppVersion, rings: 32 } : { rings: 32 });

/** A vf status of 4096 bytes or more: 18 forwards on one core, each with an rx ring and a tx vhost. */
const BIG: Step[] = Array.from({ length: 18 }, (_, i) => [
  start(`forward_with_a_long_name_${String(i).padStart(2, '0')}`, 2, 'forward'),
  attach(`forward_with_a_long_name_${String(i).padStart(2, '0')}`, `ring:${i}`, 'rx'),
  attach(`forward_with_a_long_name_${String(i).padStart(2, '0')}`, `vhost:${i}`, 'tx'),
]).flat();

test('the classifier type: classifier_mac until 18.08.3, classifier from 18.08.4 on; the other is a 500 and leaves nothing', async (t) => {
  for (const [release, good, bad] of [
    [undefined, 'classifier_mac', 'classifier'],
    ['18.08.3', 'classifier_mac', 'classifier'],
    ['18.08.4', 'classifier', 'classifier_mac'],
    ['19.11', 'classifier', 'classifier_mac'],
  ] as const) {
    const s = await sim(t, release);
    const refused = await call(s.url, 'POST', '/v1/vfs/1/components', { name: 'classifier', core: 2, type: bad });
    t.deepEqual([refused.status, refused.body], [500, 'Internal Server Error'], `${release}: ${bad}`);
    t.false(JSON.stringify(s.emulator.vf(1).status()).includes('"classifier"'), `${release}: nothing started`);
    const ok = await call(s.url, 'POST', '/v1/vfs/1/components', { name: 'classifier', core: 2, type: good });
    t.is(ok.status, 204, `${release}: ${good}`);
    const status = JSON.parse((await call(s.url, 'GET', '/v1/vfs/1')).body) as { components: { name?: string; type: string }[] };
    t.is(status.components.find((c) => c.name === 'classifier')?.type, good);
    // spp_vf itself refuses the other spelling too
    t.regex(String(JSON.stringify(s.emulator.vf(1).execute(`component start c2 3 ${bad}`))), /component type/);
  }
});

test('mixed component types on one core: refused until 18.08.1, accepted from 18.08.2 on (and a shared classifier no longer hangs)', async (t) => {
  const old = await sim(t, '18.08');
  await steps(t, old.url, [start('f', 2, 'forward')]);
  const refused = await call(old.url, 'POST', '/v1/vfs/1/components', { name: 'm', core: 2, type: 'merge' });
  t.deepEqual([refused.status, refused.body], [400, 'command error: bad value(component type)']);

  const s = await sim(t, '18.08.2');
  await steps(t, s.url, [start('f', 2, 'forward'), start('m', 2, 'merge'), start('classifier', 2, 'classifier_mac'), attach('classifier', 'ring:0', 'tx')]);
  const status = JSON.parse((await call(s.url, 'GET', '/v1/vfs/1')).body) as { components: { core: number; name?: string; type: string }[] };
  t.deepEqual(
    status.components.filter((c) => c.core === 2).map((c) => `${c.name}:${c.type}`),
    ['f:forward', 'm:merge', 'classifier:classifier_mac'],
  );
  t.false(s.emulator.vf(1).isHung);
});

test('master-lcore: absent until 18.08.2, between ports and components from 18.08.3 on', async (t) => {
  const old = await sim(t, '18.08.2');
  t.false((await call(old.url, 'GET', '/v1/vfs/1')).body.includes('master-lcore'));
  const s = await sim(t, '18.08.3');
  const body = (await call(s.url, 'GET', '/v1/vfs/1')).body;
  t.deepEqual(Object.keys(JSON.parse(body) as object), ['client-id', 'ports', 'master-lcore', 'components', 'classifier_table']);
  t.is((JSON.parse(body) as Record<string, unknown>)['master-lcore'], 1);
  t.is((s.emulator.vf(1).status() as unknown as Record<string, unknown>)['master-lcore'], 1);
});

test('error texts: bad value(..) / bad message format until 18.08.2, Invalid value (..) / Wrong message format from 18.08.3 on', async (t) => {
  for (const [release, badValue, badFormat] of [
    ['18.08.2', 'bad value(component name)', 'bad message format'],
    ['18.08.3', 'Invalid value (component name)', 'Wrong message format'],
    ['19.11', 'Invalid value (component name)', 'Wrong message format'],
  ] as const) {
    const s = await sim(t, release);
    const a = await call(s.url, 'PUT', '/v1/vfs/1/components/nobody/ports', { action: 'attach', port: 'ring:0', dir: 'rx' });
    t.deepEqual([a.status, a.body], [400, `command error: ${badValue}`], release);
    const b = await call(s.url, 'PUT', '/v1/vfs/1/components/a%20b%20c%20d%20e/ports', { action: 'attach', port: 'ring:0', dir: 'rx' });
    t.deepEqual([b.status, b.body], [400, `command error: ${badFormat}`], release);
  }
});

test('DELETE /v1/vfs/{id}: 405 until 18.08.3; from 18.08.4 on the vf exits and spp-ctl forgets it until it restarts', async (t) => {
  const old = await sim(t, '18.08.3');
  t.deepEqual((await call(old.url, 'DELETE', '/v1/vfs/1')).status, 405);
  const s = await sim(t, '18.08.4');
  await steps(t, s.url, [start('f', 2, 'forward')]);
  const a = await call(s.url, 'DELETE', '/v1/vfs/1');
  t.is(a.status, 204);
  t.is((await call(s.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}]');
  t.deepEqual([(await call(s.url, 'GET', '/v1/vfs/1')).status, (await call(s.url, 'GET', '/v1/vfs/1')).body], [404, 'sec_id 1 not found.']);
  s.emulator.restartVf(1);
  const status = JSON.parse((await call(s.url, 'GET', '/v1/vfs/1')).body) as { components: { type: string }[] };
  t.true(
    status.components.every((c) => c.type === 'unuse'),
    'a fresh process',
  );
});

test('a status of 4096 bytes or more: 500 until 19.08, and GET /v1/processes drops that vf from 18.08.3 to 19.08; 19.11 returns it', async (t) => {
  for (const [release, get, listed] of [
    ['18.08.2', 500, true],
    ['18.08.3', 500, false],
    ['18.08.4', 500, false],
    ['19.11', 200, true],
  ] as const) {
    const s = await sim(t, release);
    await steps(t, s.url, BIG);
    t.true(Buffer.byteLength(s.emulator.vf(1).reply('status')!) >= 4096);
    t.is((await call(s.url, 'GET', '/v1/vfs/1')).status, get, release);
    const processes = (await call(s.url, 'GET', '/v1/processes')).body;
    t.is(processes.includes('"client-id": 1'), listed, `${release}: ${processes}`);
    if (!listed) {
      t.deepEqual((await call(s.url, 'GET', '/v1/vfs/1')).body, 'sec_id 1 not found.');
      s.emulator.restartVf(1);
      t.true((await call(s.url, 'GET', '/v1/processes')).body.includes('"client-id": 1'), `${release}: back after a restart`);
    }
  }
});

test('a malformed JSON body: 500 until 19.08, 400 `Not in json format.` in 19.11', async (t) => {
  const old = await sim(t, '18.08.4');
  t.deepEqual((await call(old.url, 'POST', '/v1/vfs/1/components', '{"name": ')).status, 500);
  const s = await sim(t, '19.11');
  const a = await call(s.url, 'POST', '/v1/vfs/1/components', '{"name": ');
  t.deepEqual([a.status, a.body, a.contentType], [400, 'Not in json format.', 'text/plain']);
});

test('classifier_table mac_address "default": 500 in 18.08, accepted from 18.08.2 on', async (t) => {
  const old = await sim(t, '18.08');
  await steps(t, old.url, [start('classifier', 2, 'classifier_mac'), attach('classifier', 'ring:0', 'tx')]);
  t.is((await call(old.url, ...(classify('add', 'default', 'ring:0') as [string, string, unknown]))).status, 500);
  const s = await sim(t, '18.08.2');
  await steps(t, s.url, [start('classifier', 2, 'classifier_mac'), attach('classifier', 'ring:0', 'tx'), classify('add', 'default', 'ring:0')]);
  const status = JSON.parse((await call(s.url, 'GET', '/v1/vfs/1')).body) as { classifier_table: unknown[] };
  t.deepEqual(status.classifier_table, [{ type: 'mac', value: 'default', port: 'ring:0' }]);
});

test('the poll interval `release`: 1 s for 18.08, none from 18.08.2 on; an explicit interval applies to any release', async (t) => {
  const old = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], sppVersion: '18.08', pollIntervalMs: 'release' });
  const fast = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], sppVersion: '18.08.2', pollIntervalMs: 'release' });
  const paced = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], sppVersion: '19.11', pollIntervalMs: 300 });
  const timed = async (e: typeof old): Promise<number> => {
    const at = Date.now();
    await e.handle({ method: 'GET', path: '/v1/vfs/1' });
    return Date.now() - at;
  };
  // the first command waits for the next tick of a loop that started with the emulator (lower bounds only: a sleep is never shorter)
  await sleep(50);
  t.true((await timed(old)) >= 500);
  t.true((await timed(paced)) >= 100);
  // no loop: answered within the same turn of the event loop, before any timer
  const first = await Promise.race([fast.handle({ method: 'GET', path: '/v1/vfs/1' }), new Promise((r) => setTimeout(() => r('timer'), 0))]);
  t.not(first, 'timer');
});

test('18.08.3: a vf the process probe finds down (restart with downMs) is forgotten, and listed again once it is up', async (t) => {
  const s = await sim(t, '18.08.3');
  s.emulator.restartVf(1, 1000);
  t.is((await call(s.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}]');
  t.is((await call(s.url, 'GET', '/v1/vfs/1')).status, 404);
  await sleep(1100);
  t.is((await call(s.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}, {"type": "vf", "client-id": 1}]');
});
