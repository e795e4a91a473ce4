/**
 * Whatever sequence of vf commands arrives, spp-ctl's answers keep their
 * shapes: statuses decode as VfStatus and are one-line Python json.dumps,
 * errors are one of spp-ctl's texts, and the emulator never throws.
 */
import test from 'ava';
import fc from 'fast-check';
import { isRight } from 'fp-ts/lib/Either';
import { createEmulator } from '../src/sppctl/emulator';
import { VfStatus } from '../src/sppctl/wire';
import { pyDumps } from './helpers/emulator';

const names = fc.constantFrom('a', 'b', 'c', 'cls', 'm');
const portWord = fc.constantFrom('phy:0', 'phy:1', 'vhost:0', 'vhost:1', 'ring:0', 'ring:1', 'ring:2', 'ring:5', 'ring:01');
const mac = fc.constantFrom('12:ab:34:cd:56:ef', 'fa:16:3e:00:00:01', '12-ab-34-cd-56-ef', 'default');
const request = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/v1/vfs/1/components'),
    body: fc.record({ name: names, core: fc.integer({ min: 0, max: 9 }), type: fc.constantFrom('forward', 'merge', 'classifier_mac') }),
  }),
  fc.record({ method: fc.constant('DELETE'), path: names.map((n) => `/v1/vfs/1/components/${n}`), body: fc.constant(undefined) }),
  fc
    .tuple(
      names,
      fc.record({ action: fc.constantFrom('attach', 'detach'), port: portWord, dir: fc.constantFrom('rx', 'tx') }),
      fc.option(fc.integer({ min: 0, max: 4096 })),
    )
    .map(([n, b, vid]) => ({
      method: 'PUT',
      path: `/v1/vfs/1/components/${n}/ports`,
      body: vid === null ? b : { ...b, vlan: { operation: 'add', id: vid, pcp: 0 } },
    })),
  fc.record({
    method: fc.constant('PUT'),
    path: fc.constant('/v1/vfs/1/classifier_table'),
    body: fc.record({ action: fc.constantFrom('add', 'del'), type: fc.constant('mac'), mac_address: mac, port: portWord }),
  }),
);

const ERROR_TEXT = /^(command error: (bad value\([a-z ]+\)|bad message format|error occur)|Internal Server Error)$/;

test('random command sequences keep every answer well-formed (lenient: no hang)', async (t) => {
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(fc.array(request, { maxLength: 25 }), async (reqs) => {
      const emu = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], phyPorts: 1, rings: 4, lenient: true });
      for (const r of reqs) {
        const a = await emu.handle({ method: r.method, path: r.path, body: r.body === undefined ? undefined : JSON.stringify(r.body) });
        seen.add(a.status);
        if (a.status !== 204 && !(a.status >= 400 && ERROR_TEXT.test(a.body)) && !(a.status === 400 && a.body.startsWith('invalid key('))) {
          t.fail(`${r.method} ${r.path} ${JSON.stringify(r.body)} -> ${a.status} ${a.body}`);
          return false;
        }
        const s = await emu.handle({ method: 'GET', path: '/v1/vfs/1' });
        if (s.status !== 200 || s.body !== pyDumps(JSON.parse(s.body)) || !isRight(VfStatus.decode(JSON.parse(s.body)))) {
          t.fail(`status after ${r.method} ${r.path} ${JSON.stringify(r.body)}: ${s.status} ${s.body}`);
          return false;
        }
      }
      return true;
    }),
    { numRuns: 150, seed: 20181129 },
  );
  // the generator reaches both successes and spp_vf errors
  t.true(seen.has(204) && seen.has(400), `statuses seen: ${[...seen].join(', ')}`);
});
