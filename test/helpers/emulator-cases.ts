/**
 * The request/response table of spec/spp-ctl.md's rules, one case per rule,
 * run by emulator-rules.test.ts against the emulator over real HTTP.
 */
import { attach, classify, detach, pyDumps, type Step, start } from './emulator';

const C = '/v1/vfs/1/components';
const T = '/v1/vfs/1/classifier_table';
const ports = (name: string): string => `/v1/vfs/1/components/${name}/ports`;
const INTERNAL = [500, 'Internal Server Error'] as const;
const cmdError = (m: string): readonly [number, string] => [400, `command error: ${m}`];
const NONE = { operation: 'none', id: 0, pcp: 0 };
const idle = (core: number): unknown => ({ core, type: 'unuse' });

export interface Case {
  readonly name: string;
  readonly lenient?: boolean;
  readonly setup?: readonly Step[];
  readonly req: Step;
  readonly contentType?: string;
  readonly expect: readonly [status: number, body: string];
  /** A status read after the request must show this (checked with a GET /v1/vfs/1). */
  readonly look?: (status: Record<string, unknown>) => unknown;
  readonly lookExpect?: unknown;
}

const FWD = [start('f', 2, 'forward')];
const CLS = [start('cls', 6, 'classifier_mac'), attach('cls', 'phy:0', 'rx'), attach('cls', 'ring:0', 'tx'), attach('cls', 'ring:1', 'tx')];

export const cases: Case[] = [
  // --- success shapes
  {
    name: 'GET /v1/processes lists the primary, then the vfs',
    req: ['GET', '/v1/processes'],
    expect: [200, '[{"type": "primary"}, {"type": "vf", "client-id": 1}]'],
  },
  {
    name: 'GET /v1/vfs/1 of a fresh vf: phy ports only, every worker lcore unuse, empty table',
    req: ['GET', '/v1/vfs/1'],
    expect: [200, pyDumps({ 'client-id': 1, ports: ['phy:0'], components: [2, 3, 4, 5, 6, 7, 8].map(idle), classifier_table: [] })],
  },
  { name: 'component start answers 204 with no body', req: start('f', 2, 'forward'), expect: [204, ''] },
  {
    name: 'a freshly started component has empty port lists',
    req: start('f', 3, 'merge'),
    expect: [204, ''],
    look: (s) => (s.components as unknown[])[1],
    lookExpect: { core: 3, name: 'f', type: 'merge', rx_port: [], tx_port: [] },
  },
  {
    name: 'component stop of a known component',
    setup: FWD,
    req: ['DELETE', `${C}/f`],
    expect: [204, ''],
    look: (s) => (s.components as unknown[])[0],
    lookExpect: idle(2),
  },
  { name: 'component stop of an unknown name is a success', req: ['DELETE', `${C}/nothing`], expect: [204, ''] },
  {
    name: 'port attach',
    setup: FWD,
    req: attach('f', 'ring:0', 'rx'),
    expect: [204, ''],
    look: (s) => [(s.components as Record<string, unknown>[])[0]!.rx_port, s.ports],
    lookExpect: [[{ port: 'ring:0', vlan: NONE }], ['phy:0', 'ring:0']],
  },
  {
    name: 'port detach removes the port; the PMD (ports list) stays',
    setup: [...FWD, attach('f', 'vhost:3', 'tx')],
    req: detach('f', 'vhost:3', 'tx'),
    expect: [204, ''],
    look: (s) => [(s.components as Record<string, unknown>[])[0]!.tx_port, s.ports],
    lookExpect: [[], ['phy:0', 'vhost:3']],
  },
  { name: 'port detach of a port that is not attached is a success', setup: FWD, req: detach('f', 'ring:0', 'rx'), expect: [204, ''] },
  {
    name: 'classifier_table add mac: listed upper-case',
    setup: CLS,
    req: classify('add', 'fa:16:3e:a0:da:db', 'ring:1'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [{ type: 'mac', value: 'FA:16:3E:A0:DA:DB', port: 'ring:1' }],
  },
  {
    name: 'classifier_table add vlan: listed as vid/MAC',
    setup: CLS,
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:0', 100),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [{ type: 'vlan', value: '100/12:AB:34:CD:56:EF', port: 'ring:0' }],
  },
  {
    name: 'classifier_table del of an existing entry',
    setup: [...CLS, classify('add', '12:ab:34:cd:56:ef', 'ring:0')],
    req: classify('del', '12:AB:34:CD:56:EF', 'ring:0'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [],
  },
  // --- routing and HTTP conventions
  { name: 'unknown vf id: 404 sec_id', req: ['GET', '/v1/vfs/9'], expect: [404, 'sec_id 9 not found.'] },
  { name: 'negative vf id: 404 sec_id', req: ['GET', '/v1/vfs/-1'], expect: [404, 'sec_id -1 not found.'] },
  { name: 'unknown vf id is checked before the body', req: ['POST', '/v1/vfs/9/components', 'not json'], expect: [404, 'sec_id 9 not found.'] },
  { name: 'unknown vf id on DELETE', req: ['DELETE', '/v1/vfs/2/components/x'], expect: [404, 'sec_id 2 not found.'] },
  { name: 'non-integer id: bottle 404 with the rest of the path', req: ['GET', '/v1/vfs/abc'], expect: [404, "Not found: '/abc'"] },
  { name: 'unknown path under /v1', req: ['GET', '/v1/nothing'], expect: [404, "Not found: '/nothing'"] },
  { name: 'unknown path outside /v1', req: ['GET', '/status'], expect: [404, "Not found: '/status'"] },
  { name: 'wrong method on a vf path: 405', req: ['GET', C], expect: [405, 'Method not allowed.'] },
  { name: 'wrong method on /v1/processes: 405', req: ['POST', '/v1/processes', {}], expect: [405, 'Method not allowed.'] },
  { name: 'DELETE on the status path: 405', req: ['DELETE', '/v1/vfs/1'], expect: [405, 'Method not allowed.'] },
  {
    name: 'body of another content type is still parsed as JSON',
    req: ['POST', C, JSON.stringify({ name: 'f', core: 2, type: 'forward' })],
    contentType: 'text/plain',
    expect: [204, ''],
  },
  // --- missing keys, in order
  { name: 'component start: name required first', req: ['POST', C, { core: 2, type: 'forward' }], expect: [400, 'key(name) required.'] },
  { name: 'component start: then core', req: ['POST', C, { name: 'f', type: 'forward' }], expect: [400, 'key(core) required.'] },
  { name: 'component start: then type', req: ['POST', C, { name: 'f', core: 2 }], expect: [400, 'key(type) required.'] },
  { name: 'ports: action required first', setup: FWD, req: ['PUT', ports('f'), { port: 'ring:0', dir: 'rx' }], expect: [400, 'key(action) required.'] },
  { name: 'ports: then port', setup: FWD, req: ['PUT', ports('f'), { action: 'attach', dir: 'rx' }], expect: [400, 'key(port) required.'] },
  { name: 'ports: then dir', setup: FWD, req: ['PUT', ports('f'), { action: 'attach', port: 'ring:0' }], expect: [400, 'key(dir) required.'] },
  { name: 'classifier: action required first', req: ['PUT', T, {}], expect: [400, 'key(action) required.'] },
  { name: 'classifier: then type', req: ['PUT', T, { action: 'add' }], expect: [400, 'key(type) required.'] },
  { name: 'classifier: then port', req: ['PUT', T, { action: 'add', type: 'mac', mac_address: '12:ab:34:cd:56:ef' }], expect: [400, 'key(port) required.'] },
  { name: 'classifier: then mac_address', req: ['PUT', T, { action: 'add', type: 'mac', port: 'ring:0' }], expect: [400, 'key(mac_address) required.'] },
  // --- bodies that make spp-ctl raise
  { name: 'empty body: 500', req: ['POST', C, ''], expect: INTERNAL },
  { name: 'malformed JSON: 500', req: ['POST', C, '{"name": '], expect: INTERNAL },
  { name: 'body not an object: 500', req: ['PUT', T, '["action"]'], expect: INTERNAL },
  { name: 'body null: 500', req: ['POST', C, 'null'], expect: INTERNAL },
  // --- component values (observed 500, intended 400)
  { name: 'name not a string: 500', req: ['POST', C, { name: 5, core: 2, type: 'forward' }], expect: INTERNAL },
  { name: 'name not a string (lenient)', lenient: true, req: ['POST', C, { name: 5, core: 2, type: 'forward' }], expect: [400, 'invalid key(name): 5.'] },
  { name: 'core a string: 500', req: ['POST', C, { name: 'f', core: '2', type: 'forward' }], expect: INTERNAL },
  { name: 'core a string (lenient)', lenient: true, req: ['POST', C, { name: 'f', core: '2', type: 'forward' }], expect: [400, 'invalid key(core): 2.'] },
  {
    name: 'core a float (lenient)',
    lenient: true,
    req: ['POST', C, '{"name": "f", "core": 2.0, "type": "forward"}'],
    expect: [400, 'invalid key(core): 2.0.'],
  },
  { name: 'core true passes spp-ctl as the word True', req: ['POST', C, { name: 'f', core: true, type: 'forward' }], expect: cmdError('bad value(core)') },
  { name: 'type unknown: 500', req: ['POST', C, { name: 'f', core: 2, type: 'forwarder' }], expect: INTERNAL },
  {
    name: 'type unknown (lenient)',
    lenient: true,
    req: ['POST', C, { name: 'f', core: 2, type: 'forwarder' }],
    expect: [400, 'invalid key(type): forwarder.'],
  },
  // --- component rules of spp_vf
  { name: 'core above 127: bad value(core)', req: start('f', 128, 'forward'), expect: cmdError('bad value(core)') },
  { name: 'negative core: bad value(core)', req: start('f', -1, 'forward'), expect: cmdError('bad value(core)') },
  { name: 'core not an EAL lcore: error occur', req: start('f', 0, 'forward'), expect: cmdError('error occur') },
  { name: 'core 9 outside the mask: error occur', req: start('f', 9, 'forward'), expect: cmdError('error occur') },
  { name: 'master lcore (lenient): error reply instead of a hang', lenient: true, req: start('f', 1, 'forward'), expect: cmdError('error occur') },
  {
    name: 'second classifier on a core (lenient): error reply',
    lenient: true,
    setup: [start('c1', 6, 'classifier_mac')],
    req: start('c2', 6, 'classifier_mac'),
    expect: cmdError('error occur'),
  },
  { name: 'name already used', setup: FWD, req: start('f', 3, 'forward'), expect: cmdError('bad value(component name)') },
  { name: 'name of 32 characters', req: start('n'.repeat(32), 2, 'forward'), expect: cmdError('bad value(component name)') },
  { name: 'name of 31 characters is accepted', req: start('n'.repeat(31), 2, 'forward'), expect: [204, ''] },
  { name: 'name with a space changes the word count', req: start('a b', 2, 'forward'), expect: cmdError('bad message format') },
  { name: 'core hosting another type (forward vs merge)', setup: FWD, req: start('m', 2, 'merge'), expect: cmdError('bad value(component type)') },
  {
    name: 'same-type components share a core, both listed in start order',
    setup: FWD,
    req: start('g', 2, 'forward'),
    expect: [204, ''],
    look: (s) => (s.components as unknown[]).slice(0, 3),
    lookExpect: [{ core: 2, name: 'f', type: 'forward', rx_port: [], tx_port: [] }, { core: 2, name: 'g', type: 'forward', rx_port: [], tx_port: [] }, idle(3)],
  },
  // --- ports: spp-ctl checks
  { name: 'action unknown: 500', setup: FWD, req: ['PUT', ports('f'), { action: 'add', port: 'ring:0', dir: 'rx' }], expect: INTERNAL },
  {
    name: 'action unknown (lenient)',
    lenient: true,
    setup: FWD,
    req: ['PUT', ports('f'), { action: 'add', port: 'ring:0', dir: 'rx' }],
    expect: [400, 'invalid key(action): add.'],
  },
  { name: 'dir unknown (lenient)', lenient: true, setup: FWD, req: attach('f', 'ring:0', 'in'), expect: [400, 'invalid key(dir): in.'] },
  { name: 'port type unknown: 500', setup: FWD, req: attach('f', 'RING:0', 'rx'), expect: INTERNAL },
  { name: 'port without a number (lenient)', lenient: true, setup: FWD, req: attach('f', 'ring', 'rx'), expect: [400, 'invalid key(port): ring.'] },
  { name: 'port number not an int (lenient)', lenient: true, setup: FWD, req: attach('f', 'ring:x', 'rx'), expect: [400, 'invalid key(port): ring:x.'] },
  { name: 'port not a string (lenient)', lenient: true, setup: FWD, req: attach('f', 5 as unknown as string, 'rx'), expect: [400, 'invalid key(port): 5.'] },
  { name: 'pcap passes spp-ctl, spp_vf rejects it', setup: FWD, req: attach('f', 'pcap:0', 'rx'), expect: cmdError('bad value(port)') },
  { name: 'nullpmd passes spp-ctl, spp_vf rejects it', setup: FWD, req: attach('f', 'nullpmd:0', 'rx'), expect: cmdError('bad value(port)') },
  // --- ports: port words (strtol base 0)
  { name: 'ring:01 is ring 1', setup: FWD, req: attach('f', 'ring:01', 'rx'), expect: [204, ''], look: (s) => s.ports, lookExpect: ['phy:0', 'ring:1'] },
  { name: 'ring:0x2 fails Python int() in spp-ctl: 500', setup: FWD, req: attach('f', 'ring:0x2', 'rx'), expect: INTERNAL },
  { name: 'ring:08 is not octal', setup: FWD, req: attach('f', 'ring:08', 'rx'), expect: cmdError('bad value(port)') },
  { name: 'ring:+1 passes both', setup: FWD, req: attach('f', 'ring:+1', 'rx'), expect: [204, ''] },
  { name: 'ring:-1 passes spp-ctl; negative numbers are bad value(port)', setup: FWD, req: attach('f', 'ring:-1', 'rx'), expect: cmdError('bad value(port)') },
  { name: 'vhost:32 is past the port table', setup: FWD, req: attach('f', 'vhost:32', 'rx'), expect: cmdError('bad value(port)') },
  { name: 'phy:1 with one NIC: error occur', setup: FWD, req: attach('f', 'phy:1', 'rx'), expect: cmdError('error occur') },
  // --- ports: spp_vf rules
  {
    name: 'attach twice in one direction',
    setup: [...FWD, attach('f', 'ring:0', 'rx')],
    req: attach('f', 'ring:0', 'rx'),
    expect: cmdError('bad value(port rxtx)'),
  },
  {
    name: 'attach in a direction another component uses',
    setup: [...FWD, start('g', 3, 'forward'), attach('f', 'ring:0', 'rx')],
    req: attach('g', 'ring:0', 'rx'),
    expect: cmdError('bad value(port rxtx)'),
  },
  {
    name: 'attach of a port already used as rx and tx',
    setup: [...FWD, start('g', 3, 'forward'), start('h', 4, 'forward'), attach('f', 'ring:0', 'rx'), attach('g', 'ring:0', 'tx')],
    req: attach('h', 'ring:0', 'tx'),
    expect: cmdError('bad value(port)'),
  },
  {
    name: 'a port may be rx of one component and tx of another',
    setup: [...FWD, start('g', 3, 'forward'), attach('f', 'ring:0', 'rx')],
    req: attach('g', 'ring:0', 'tx'),
    expect: [204, ''],
  },
  { name: 'unknown component on attach', req: attach('nothing', 'ring:0', 'rx'), expect: cmdError('bad value(component name)') },
  { name: 'unknown component on detach', req: detach('nothing', 'ring:0', 'rx'), expect: cmdError('bad value(component name)') },
  {
    name: 'forward with a second rx: error occur, status keeps the old view',
    setup: [...FWD, attach('f', 'ring:0', 'rx')],
    req: attach('f', 'ring:1', 'rx'),
    expect: cmdError('error occur'),
    look: (s) => (s.components as Record<string, unknown>[])[0]!.rx_port,
    lookExpect: [{ port: 'ring:0', vlan: NONE }],
  },
  {
    name: 'the extra port of a failed push counts as in use',
    setup: [...FWD, start('g', 3, 'forward'), attach('f', 'ring:0', 'rx'), ['PUT', ports('f'), { action: 'attach', port: 'ring:1', dir: 'rx' }, 400]],
    req: attach('g', 'ring:1', 'rx'),
    expect: cmdError('bad value(port rxtx)'),
  },
  {
    name: 'merge takes many rx',
    setup: [start('m', 7, 'merge'), attach('m', 'ring:1', 'rx'), attach('m', 'ring:3', 'rx')],
    req: attach('m', 'vhost:0', 'rx'),
    expect: [204, ''],
  },
  {
    name: 'merge with a second tx: error occur',
    setup: [start('m', 7, 'merge'), attach('m', 'phy:0', 'tx')],
    req: attach('m', 'ring:0', 'tx'),
    expect: cmdError('error occur'),
  },
  {
    name: 'a classifier lists only its first rx',
    setup: [start('cls', 6, 'classifier_mac'), attach('cls', 'phy:0', 'rx')],
    req: attach('cls', 'ring:0', 'rx'),
    expect: [204, ''],
    look: (s) => (s.components as Record<string, unknown>[])[4]!.rx_port,
    lookExpect: [{ port: 'phy:0', vlan: NONE }],
  },
  // --- ports: VLAN
  {
    name: 'attach with add_vlantag',
    setup: FWD,
    req: attach('f', 'ring:0', 'tx', { operation: 'add', id: 400, pcp: 0 }),
    expect: [204, ''],
    look: (s) => (s.components as Record<string, unknown>[])[0]!.tx_port,
    lookExpect: [{ port: 'ring:0', vlan: { operation: 'add', id: 400, pcp: 0 } }],
  },
  {
    name: 'attach with del_vlantag',
    setup: FWD,
    req: attach('f', 'ring:0', 'rx', { operation: 'del' }),
    expect: [204, ''],
    look: (s) => (s.components as Record<string, unknown>[])[0]!.rx_port,
    lookExpect: [{ port: 'ring:0', vlan: { operation: 'del', id: 0, pcp: 0 } }],
  },
  { name: 'vlan operation none adds nothing', setup: FWD, req: attach('f', 'ring:0', 'rx', { operation: 'none' }), expect: [204, ''] },
  { name: 'a falsy vlan is ignored', setup: FWD, req: attach('f', 'ring:0', 'rx', {}), expect: [204, ''] },
  { name: 'vlan add without id: 500', setup: FWD, req: attach('f', 'ring:0', 'rx', { operation: 'add' }), expect: INTERNAL },
  {
    name: 'vlan add without id (lenient)',
    lenient: true,
    setup: FWD,
    req: attach('f', 'ring:0', 'rx', { operation: 'add' }),
    expect: [400, "invalid key(vlan): {'operation': 'add'}."],
  },
  {
    name: 'vlan operation unknown (lenient)',
    lenient: true,
    setup: FWD,
    req: attach('f', 'ring:0', 'rx', { operation: 'push' }),
    expect: [400, "invalid key(vlan): {'operation': 'push'}."],
  },
  { name: 'vlan not an object (lenient)', lenient: true, setup: FWD, req: attach('f', 'ring:0', 'rx', 'tag'), expect: [400, 'invalid key(vlan): tag.'] },
  {
    name: 'vlan id as a string passes validation, then %d raises: 500',
    setup: FWD,
    req: attach('f', 'ring:0', 'rx', { operation: 'add', id: '100', pcp: 0 }),
    expect: INTERNAL,
  },
  {
    name: 'vlan id as a string is a 500 even when lenient',
    lenient: true,
    setup: FWD,
    req: attach('f', 'ring:0', 'rx', { operation: 'add', id: '100', pcp: 0 }),
    expect: INTERNAL,
  },
  { name: 'vid above 4095', setup: FWD, req: attach('f', 'ring:0', 'rx', { operation: 'add', id: 4096, pcp: 0 }), expect: cmdError('bad value(port vid)') },
  { name: 'pcp above 7', setup: FWD, req: attach('f', 'ring:0', 'rx', { operation: 'add', id: 10, pcp: 8 }), expect: cmdError('bad value(port pcp)') },
  {
    name: 'detach ignores vlan',
    setup: [...FWD, attach('f', 'ring:0', 'rx')],
    req: ['PUT', ports('f'), { action: 'detach', port: 'ring:0', dir: 'rx', vlan: 'junk' }],
    expect: [204, ''],
  },
  // --- missing ring
  { name: 'attach of a ring the primary never created: error occur', setup: FWD, req: attach('f', 'ring:4', 'rx'), expect: cmdError('error occur') },
  {
    name: 'after a missing ring the vf is wedged',
    setup: [...FWD, ['PUT', ports('f'), { action: 'attach', port: 'ring:4', dir: 'rx' }, 400]],
    req: start('g', 3, 'forward'),
    expect: cmdError('error occur'),
  },
  {
    name: 'a wedged vf fails even a stop of an unknown name',
    setup: [...FWD, ['PUT', ports('f'), { action: 'attach', port: 'ring:4', dir: 'rx' }, 400]],
    req: ['DELETE', `${C}/zzz`],
    expect: cmdError('error occur'),
  },
  {
    name: 'lenient: no wedge after a missing ring',
    lenient: true,
    setup: [...FWD, ['PUT', ports('f'), { action: 'attach', port: 'ring:4', dir: 'rx' }, 400]],
    req: start('g', 3, 'forward'),
    expect: [204, ''],
  },
  // --- classifier_table: spp-ctl checks
  {
    name: 'classifier action unknown: 500',
    setup: CLS,
    req: ['PUT', T, { action: 'put', type: 'mac', mac_address: '12:ab:34:cd:56:ef', port: 'ring:0' }],
    expect: INTERNAL,
  },
  {
    name: 'classifier type unknown (lenient)',
    lenient: true,
    setup: CLS,
    req: ['PUT', T, { action: 'add', type: 'ip', mac_address: '12:ab:34:cd:56:ef', port: 'ring:0' }],
    expect: [400, 'invalid key(type): ip.'],
  },
  { name: 'MAC default is rejected by spp-ctl: 500', setup: CLS, req: classify('add', 'default', 'ring:0'), expect: INTERNAL },
  { name: 'MAC default (lenient)', lenient: true, setup: CLS, req: classify('add', 'default', 'ring:0'), expect: [400, 'invalid key(mac_address): default.'] },
  { name: 'MAC with five fields: 500', setup: CLS, req: classify('add', '12:ab:34:cd:56', 'ring:0'), expect: INTERNAL },
  {
    name: 'MAC with a non-hex field (lenient)',
    lenient: true,
    setup: CLS,
    req: classify('add', '12:ab:34:cd:56:eg', 'ring:0'),
    expect: [400, 'invalid key(mac_address): 12:ab:34:cd:56:eg.'],
  },
  {
    name: 'type vlan without vlan: 500',
    setup: CLS,
    req: ['PUT', T, { action: 'add', type: 'vlan', mac_address: '12:ab:34:cd:56:ef', port: 'ring:0' }],
    expect: INTERNAL,
  },
  {
    name: 'type vlan with vlan null (lenient)',
    lenient: true,
    setup: CLS,
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:0', null),
    expect: [400, 'invalid key(vlan): None.'],
  },
  {
    name: 'type vlan with a non-numeric string (lenient)',
    lenient: true,
    setup: CLS,
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:0', 'ten'),
    expect: [400, 'invalid key(vlan): ten.'],
  },
  {
    name: 'type mac ignores vlan',
    setup: CLS,
    req: ['PUT', T, { action: 'add', type: 'mac', mac_address: '12:ab:34:cd:56:ef', port: 'ring:0', vlan: 'junk' }],
    expect: [204, ''],
  },
  // --- classifier_table: MAC forms
  {
    name: 'dash form passes spp-ctl and becomes MAC 0 in spp_vf: success, nothing stored',
    setup: CLS,
    req: classify('add', '12-ab-34-cd-56-ef', 'ring:0'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [],
  },
  {
    name: 'Cisco dot form: success, nothing stored',
    setup: CLS,
    req: classify('add', '12ab.34cd.56ef', 'ring:0'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [],
  },
  {
    name: 'EUI-64 form passes spp-ctl; a 7th field is bad value(mac address)',
    setup: CLS,
    req: classify('add', '12:ab:34:cd:56:ef:01:02', 'ring:0'),
    expect: cmdError('bad value(mac address)'),
  },
  {
    name: 'upper-case input is listed the same',
    setup: CLS,
    req: classify('add', 'FA:16:3E:0A:0B:0C', 'ring:0'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [{ type: 'mac', value: 'FA:16:3E:0A:0B:0C', port: 'ring:0' }],
  },
  // --- classifier_table: spp_vf rules
  {
    name: 'vlan string is passed verbatim: "010" is VLAN 8',
    setup: CLS,
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:0', '010'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [{ type: 'vlan', value: '8/12:AB:34:CD:56:EF', port: 'ring:0' }],
  },
  { name: 'VLAN id above 4095', setup: CLS, req: classify('add', '12:ab:34:cd:56:ef', 'ring:0', 4096), expect: cmdError('bad value(vlan id)') },
  {
    name: 'VLAN 4095 is listed as a mac entry',
    setup: CLS,
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:0', 4095),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [{ type: 'mac', value: '12:AB:34:CD:56:EF', port: 'ring:0' }],
  },
  { name: 'port never added', setup: CLS, req: classify('add', '12:ab:34:cd:56:ef', 'ring:3'), expect: cmdError('bad value(port)') },
  { name: 'pcap port in the table', setup: CLS, req: classify('add', '12:ab:34:cd:56:ef', 'pcap:0'), expect: cmdError('bad value(port)') },
  {
    name: 'classifier duplicate: the port already holds an entry',
    setup: [...CLS, classify('add', '12:ab:34:cd:56:ef', 'ring:0')],
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:0'),
    expect: cmdError('bad value(port)'),
  },
  {
    name: 'a second, different MAC on one port',
    setup: [...CLS, classify('add', '12:ab:34:cd:56:ef', 'ring:0')],
    req: classify('add', '12:ab:34:cd:56:00', 'ring:0'),
    expect: cmdError('bad value(port)'),
  },
  { name: 'delete of an absent entry', setup: CLS, req: classify('del', '12:ab:34:cd:56:ef', 'ring:0'), expect: cmdError('bad value(port)') },
  {
    name: 'delete with another VLAN than the entry',
    setup: [...CLS, classify('add', '12:ab:34:cd:56:ef', 'ring:0', 10)],
    req: classify('del', '12:ab:34:cd:56:ef', 'ring:0', 11),
    expect: cmdError('bad value(port)'),
  },
  {
    name: 'the same MAC on two tx ports of one classifier: success, listed once (later port wins)',
    setup: [...CLS, classify('add', '12:ab:34:cd:56:ef', 'ring:0')],
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:1'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [{ type: 'mac', value: '12:AB:34:CD:56:EF', port: 'ring:1' }],
  },
  {
    name: 'entries are listed by VLAN id, MAC-only entries last',
    setup: [...CLS, attach('cls', 'ring:2', 'tx'), classify('add', '00:00:00:00:00:0a', 'ring:0'), classify('add', '00:00:00:00:00:0b', 'ring:1', 20)],
    req: classify('add', '00:00:00:00:00:0c', 'ring:2', 5),
    expect: [204, ''],
    look: (s) => (s.classifier_table as Record<string, unknown>[]).map((e) => e.value),
    lookExpect: ['5/00:00:00:00:00:0C', '20/00:00:00:00:00:0B', '00:00:00:00:00:0A'],
  },
  {
    name: 'an entry on a port that is not a classifier tx is stored but not listed',
    setup: [...FWD, attach('f', 'ring:0', 'rx')],
    req: classify('add', '12:ab:34:cd:56:ef', 'ring:0'),
    expect: [204, ''],
    look: (s) => s.classifier_table,
    lookExpect: [],
  },
  {
    name: 'after port del the entry is hidden but kept: a new add on the port fails',
    setup: [...CLS, classify('add', '12:ab:34:cd:56:ef', 'ring:0'), detach('cls', 'ring:0', 'tx')],
    req: classify('add', '12:ab:34:cd:56:00', 'ring:0'),
    expect: cmdError('bad value(port)'),
    look: (s) => s.classifier_table,
    lookExpect: [],
  },
  // --- text protocol through REST
  { name: 'a component name with spaces on DELETE changes the word count harmlessly', req: ['DELETE', `${C}/a%20b`], expect: [204, ''] },
];
