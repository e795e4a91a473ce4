/**
 * spp_vf's text protocol (spec section 4) and C number/MAC syntax, below the
 * REST layer: the commands spp-ctl never builds still answer as spp_vf would.
 */
import test from 'ava';
import { SppVf } from '../src/sppctl/emulator';
import { pyFloatRepr, pyJsonDumps, pyJsonLoads, pyRepr } from '../src/sppctl/emulator/pyjson';
import { cStrto, formatMac, parseMac, parsePortWord } from '../src/sppctl/emulator/textproto';

const vf = (): SppVf => new SppVf({ secId: 3, lcores: [1, 2, 3, 4, 5, 6, 7, 8], phyPorts: 2, rings: 8 });
const OK = '{ "results": [ { "result": "success" } ] }';
const err = (m: string): string => `{ "results": [ { "result": "error", "error_details": { "message": "${m}" } } ] }`;

const replies: [string, string, string | undefined][] = [
  ['unknown first word', 'flush', err('bad value(command)')],
  ['cancel does not exist either', 'cancel', err('bad value(command)')],
  ['more than 8 words', 'port add ring:0 rx a add_vlantag 1 2 3', err('bad message format')],
  ['status with an extra word', 'status now', err('bad message format')],
  ['component with 2 words', 'component start', err('bad message format')],
  ['classifier_table with 7 words', 'classifier_table add vlan 1 12:ab:34:cd:56:ef ring:0 x', err('bad message format')],
  ['component action', 'component begin f 2 forward', err('bad value(action)')],
  ['component type', 'component start f 2 router', err('bad value(component type)')],
  ['core in hex', 'component start f 0x2 forward', OK],
  ['core in octal', 'component start f 03 forward', OK],
  ['core 08 is not a number', 'component start f 08 forward', err('bad value(core)')],
  ['runs of spaces collapse', 'component   start  g   3   forward', OK],
  ['component stop ignores core and type', 'component stop f bogus bogus', OK],
  ['port action', 'port attach ring:0 rx f', err('bad value(action)')],
  ['port words are case-sensitive', 'port add Ring:0 rx f', err('bad value(port)')],
  ['port rxtx', 'port add ring:0 both f', err('bad value(port rxtx)')],
  ['vlan operation word', 'port add ring:0 rx f push_vlantag', err('bad value(port vlan operation)')],
  ['decode order: port before name', 'port add ring:x rx nothing', err('bad value(port)')],
  ['classifier action', 'classifier_table put mac 12:ab:34:cd:56:ef ring:0', err('bad value(action)')],
  ['classifier type', 'classifier_table add ip 12:ab:34:cd:56:ef ring:0', err('bad value(type)')],
  ['classifier vlan id', 'classifier_table add vlan 4096 12:ab:34:cd:56:ef ring:0', err('bad value(vlan id)')],
  ['classifier 7th MAC field', 'classifier_table add mac 1:2:3:4:5:6:7 ring:0', err('bad value(mac address)')],
  ['classifier MAC field above 0x7fffffff', 'classifier_table add mac 80000000 ring:0', err('bad value(mac address)')],
  ['classifier default for a port never added', 'classifier_table add mac default ring:0', err('bad value(port)')],
  ['exit gives no reply', 'exit', undefined],
];

for (const [name, command, reply] of replies) {
  test(`spp_vf text: ${name}`, (t) => {
    const v = vf();
    if (!command.startsWith('component start f')) v.reply('component start f 2 forward');
    t.is(v.reply(command), reply, command);
  });
}

test('spp_vf text: _get_client_id answers the handshake', (t) => {
  t.is(vf().reply('_get_client_id'), '{ "results": [ { "result": "success" } ], "client_id": 3, "process_type": "vf" }');
});

test('spp_vf text: classifier default is stored as 00:00:00:00:00:01 and listed as default, first in its VLAN', (t) => {
  const v = vf();
  for (const c of ['component start c 2 classifier_mac', 'port add ring:0 tx c', 'port add ring:1 tx c', 'port add ring:2 tx c']) t.is(v.reply(c), OK, c);
  t.is(v.reply('classifier_table add vlan 10 12:ab:34:cd:56:ef ring:0'), OK);
  t.is(v.reply('classifier_table add vlan 10 default ring:1'), OK);
  t.is(v.reply('classifier_table add mac 00:00:00:00:00:01 ring:2'), OK);
  t.deepEqual(v.info().classifier_table, [
    { type: 'vlan', value: '10/default', port: 'ring:1' },
    { type: 'vlan', value: '10/12:AB:34:CD:56:EF', port: 'ring:0' },
    { type: 'mac', value: 'default', port: 'ring:2' },
  ]);
  t.is(v.reply('classifier_table del mac default ring:2'), OK);
  t.is((v.info().classifier_table as unknown[]).length, 2);
});

test('spp_vf text: a hang on the master lcore stays until reset', (t) => {
  const v = vf();
  t.is(v.reply('component start m 1 forward'), undefined);
  t.true(v.isHung);
  t.is(v.reply('status'), undefined);
  v.reset();
  t.false(v.isHung);
  t.is(v.reply('component start m 2 forward'), OK);
});

test('spp_vf text: 4 VLAN ability slots per port', (t) => {
  const v = vf();
  for (const c of ['component start a 2 forward', 'component start b 3 forward', 'component start c 4 merge']) t.is(v.reply(c), OK);
  t.is(v.reply('port add ring:0 rx a add_vlantag 1 0'), OK);
  t.is(v.reply('port add ring:0 tx a add_vlantag 2 0'), OK);
  t.is(v.reply('port add ring:0 tx b add_vlantag 3 0'), OK);
  t.is(v.reply('port add ring:0 rx b add_vlantag 4 0'), OK);
  t.is(v.reply('port add ring:0 rx c add_vlantag 5 0'), err('error occur'));
});

test('C strtol base 0 and int truncation', (t) => {
  t.is(cStrto('0x1f', false), 31n);
  t.is(cStrto('017', false), 15n);
  t.is(cStrto('08', false), undefined);
  t.is(cStrto('-3', false), -3n);
  t.is(cStrto('+3', false), 3n);
  t.is(cStrto('', false), undefined);
  t.is(cStrto('12abc', false), undefined);
  t.is(cStrto('-1', true), (1n << 64n) - 1n);
  t.deepEqual(parsePortWord('ring:01'), { type: 'ring', n: 1 });
  t.deepEqual(parsePortWord('vhost:0x10'), { type: 'vhost', n: 16 });
  t.is(parsePortWord('ring:08'), undefined);
  t.is(parsePortWord('pcap:0'), undefined);
});

test('spp_vf MAC parsing: fields spill, stop silently, zero-fill', (t) => {
  const fmt = (s: string): string | undefined => {
    const m = parseMac(s);
    return m === undefined ? undefined : formatMac(m);
  };
  t.is(fmt('12:ab:34:cd:56:ef'), '12:AB:34:CD:56:EF');
  t.is(fmt('0x12:AB:34:cd:56:ef'), '12:AB:34:CD:56:EF');
  t.is(fmt('12:ab'), '12:AB:00:00:00:00');
  t.is(fmt('12:zz:34'), '12:00:00:00:00:00');
  t.is(fmt('12-ab-34-cd-56-ef'), '00:00:00:00:00:00');
  t.is(fmt('abc:1'), 'BC:0B:00:00:00:00');
  t.is(fmt('1:2:3:4:5:6:7'), undefined);
});

test('Python json and repr details', (t) => {
  t.deepEqual(pyJsonLoads('{"a": 2, "b": 2.0}'), {
    k: 'dict',
    v: new Map([
      ['a', { k: 'int', v: 2n }],
      ['b', { k: 'float', v: 2 }],
    ]),
  } as never);
  t.throws(() => pyJsonLoads('{"a": 1} x'));
  t.is(pyRepr(pyJsonLoads('{"operation": "add", "id": [1, true, null, "it\'s"]}')), `{'operation': 'add', 'id': [1, True, None, "it's"]}`);
  t.is(pyFloatRepr(1e16), '1e+16');
  t.is(pyFloatRepr(0.0001), '0.0001');
  t.is(pyFloatRepr(0.00001), '1e-05');
  t.is(pyFloatRepr(2.5), '2.5');
  t.is(pyJsonDumps({ a: [1, 'é'], b: { c: null } }), '{"a": [1, "\\u00e9"], "b": {"c": null}}');
  // json.dumps(json.loads('{"a": [], "b": {}, "c": [1, [2.5, {"d": false}]], "e": true, "f": "q\\"\\\\"}'))
  t.is(
    pyJsonDumps({ a: [], b: {}, c: [1, [2.5, { d: false }]], e: true, f: 'q"\\' }),
    '{"a": [], "b": {}, "c": [1, [2.5, {"d": false}]], "e": true, "f": "q\\"\\\\"}',
  );
  t.is(pyJsonDumps([]), '[]');
  t.is(pyJsonDumps({}), '{}');
});
