import test from 'ava';
import { coreMaskBits, formatMappings, MAX_VHOSTS_PER_NIC, parseMappings, validateConfiguration } from '../src/protocol/mappings';

const SEED = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';

test('the seed example parses into the configuration of the spec', (t) => {
  const r = parseMappings(SEED);
  t.deepEqual(r.errors, []);
  t.deepEqual(r.warnings, []);
  t.deepEqual(r.configuration, [
    { pci_address: '00:04.0', physical_network: 'phys1', num_vhost: 2, core_mask: '0xfe' },
    { pci_address: '00:05.0', physical_network: 'phys2', num_vhost: 2, core_mask: '0xfc02' },
  ]);
  t.is(formatMappings(r.configuration!), SEED);
});

test('core masks: lowest bit is the master, the rest are occupied cores', (t) => {
  t.deepEqual(coreMaskBits('0xfe'), { master: 1, occupied: [2, 3, 4, 5, 6, 7] });
  t.deepEqual(coreMaskBits('0xfc02'), { master: 1, occupied: [10, 11, 12, 13, 14, 15] });
  t.deepEqual(coreMaskBits('FE'), { master: 1, occupied: [2, 3, 4, 5, 6, 7] });
  t.deepEqual(coreMaskBits('0X3'), { master: 0, occupied: [1] });
  t.is(coreMaskBits('xfc02'), undefined);
  t.is(coreMaskBits('0x0'), undefined);
  t.deepEqual(coreMaskBits(`0x${'1'.padEnd(33, '0')}`)?.master, 128);
});

const errorsOf = (s: string) => parseMappings(s).errors;

test("the seed's typo xfc02 is rejected naming the entry and the mask; nothing is returned", (t) => {
  const r = parseMappings('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#xfc02');
  t.deepEqual(r.errors, ['NIC entry 2 "00:05.0#phys2#2#xfc02": field core_mask: "xfc02" is not a hex core mask (e.g. 0xfe)']);
  t.is(r.configuration, undefined);
});

test('malformed entries', (t) => {
  t.deepEqual(errorsOf('00:04.0#phys1#2'), [
    'NIC entry 1 "00:04.0#phys1#2": expected 4 \'#\'-separated fields <pci>#<physical_network>#<num_vhost>#<core_mask>, got 3',
  ]);
  t.deepEqual(errorsOf(`${SEED},`), ['NIC entry 3 "": expected 4 \'#\'-separated fields <pci>#<physical_network>#<num_vhost>#<core_mask>, got 1']);
  t.deepEqual(errorsOf(''), ['mappings are empty: expected <pci>#<physical_network>#<num_vhost>#<core_mask>,...']);
  t.deepEqual(errorsOf('00:04.0#phys1#2#0xfe#x'), [
    'NIC entry 1 "00:04.0#phys1#2#0xfe#x": expected 4 \'#\'-separated fields <pci>#<physical_network>#<num_vhost>#<core_mask>, got 5',
  ]);
});

test('bad PCI address and physical network', (t) => {
  t.deepEqual(errorsOf('0:04.0#phys1#2#0xfe'), [
    'NIC entry 1 "0:04.0#phys1#2#0xfe": field pci_address: "0:04.0" is not a PCI address (BB:DD.F or DDDD:BB:DD.F, e.g. 00:04.0)',
  ]);
  t.deepEqual(errorsOf('00:04.8#phys1#2#0xfe'), [
    'NIC entry 1 "00:04.8#phys1#2#0xfe": field pci_address: "00:04.8" is not a PCI address (BB:DD.F or DDDD:BB:DD.F, e.g. 00:04.0)',
  ]);
  t.deepEqual(parseMappings('0000:00:04.0#phys1#2#0xfe').errors, []);
  t.deepEqual(errorsOf('00:04.0#ph ys#2#0xfe'), [
    'NIC entry 1 "00:04.0#ph ys#2#0xfe": field physical_network: "ph ys" is not a physical network name (non-empty, no \'/\' or spaces)',
  ]);
  t.deepEqual(errorsOf('00:04.0##2#0xfe'), [
    'NIC entry 1 "00:04.0##2#0xfe": field physical_network: "" is not a physical network name (non-empty, no \'/\' or spaces)',
  ]);
});

test('num_vhost must be a positive integer', (t) => {
  for (const [n, got] of [
    ['0', '0'],
    ['-1', '-1'],
    ['x', '"x"'],
    ['2.5', '"2.5"'],
    ['', '""'],
  ] as const) {
    t.deepEqual(errorsOf(`00:04.0#phys1#${n}#0xfe`), [`NIC entry 1 "00:04.0#phys1#${n}#0xfe": field num_vhost: must be a positive integer, got ${got}`]);
  }
});

test('core mask must be hex', (t) => {
  for (const mask of ['xfc02', '0xfg', '', '0x', '0xfe.', '-0xfe']) {
    const entry = `00:04.0#phys1#2#${mask}`;
    const r = errorsOf(entry);
    t.is(r.length, 1, entry);
    t.is(r[0], `NIC entry 1 "${entry}": field core_mask: ${JSON.stringify(mask)} is not a hex core mask (e.g. 0xfe)`);
  }
  t.deepEqual(errorsOf('00:04.0#phys1#2#0x0'), ['NIC entry 1 "00:04.0#phys1#2#0x0": core mask "0x0" selects no core']);
});

test('a NIC needs exactly 2n+2 occupied cores besides its master', (t) => {
  t.deepEqual(errorsOf('00:04.0#phys1#2#0x1e'), [
    'NIC entry 1 "00:04.0#phys1#2#0x1e": core mask 0x1e has 3 occupied core(s) [2,3,4] besides master core 1; ' +
      '2 vhost(s) need exactly 6 (2 forwarders per vhost + classifier + merger)',
  ]);
  t.deepEqual(errorsOf('00:04.0#phys1#2#0x1fe'), [
    'NIC entry 1 "00:04.0#phys1#2#0x1fe": core mask 0x1fe has 7 occupied core(s) [2,3,4,5,6,7,8] besides master core 1; ' +
      '2 vhost(s) need exactly 6 (2 forwarders per vhost + classifier + merger)',
  ]);
  t.deepEqual(errorsOf('00:04.0#phys1#1#0x3e'), []);
});

test('occupied cores must not be shared between NICs; master cores may be', (t) => {
  t.deepEqual(errorsOf('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0x1f81'), [
    'NIC entry 2 "00:05.0#phys2#2#0x1f81": core mask 0x1f81 occupies core(s) 7 already occupied by NIC entry 1 "00:04.0#phys1#2#0xfe"',
  ]);
  // Both processes use master core 1, as in the seed: allowed.
  t.deepEqual(parseMappings(SEED).errors, []);
});

test('a master core occupied by another NIC is a warning', (t) => {
  const r = parseMappings('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc04');
  t.deepEqual(r.errors, []);
  t.deepEqual(r.warnings, [
    'NIC entry 2 "00:05.0#phys2#2#0xfc04": master core 2 is occupied by a component of NIC entry 1 "00:04.0#phys1#2#0xfe"; choose a master core no spp_vf occupies',
  ]);
});

test('duplicate PCI addresses, also with and without the 0000: domain', (t) => {
  t.deepEqual(errorsOf('00:04.0#phys1#2#0xfe,00:04.0#phys2#2#0xfc02'), [
    'NIC entry 2 "00:04.0#phys2#2#0xfc02": PCI address 00:04.0 is already used by NIC entry 1 "00:04.0#phys1#2#0xfe"',
  ]);
  t.deepEqual(errorsOf('00:04.0#phys1#2#0xfe,0000:00:04.0#phys2#2#0xfc02'), [
    'NIC entry 2 "0000:00:04.0#phys2#2#0xfc02": PCI address 0000:00:04.0 is already used by NIC entry 1 "00:04.0#phys1#2#0xfe"',
  ]);
});

test('every error of every entry is reported at once', (t) => {
  const errors = errorsOf('0:04.0#phys1#2#0xfe,00:05.0#phys2#x#0xfc02,00:06.0#phys3#2');
  t.is(errors.length, 3);
  t.true(errors[0]!.startsWith('NIC entry 1 '));
  t.true(errors[1]!.startsWith('NIC entry 2 '));
  t.true(errors[2]!.startsWith('NIC entry 3 '));
  // Entries that parse are still checked against each other when another entry does not.
  t.deepEqual(errorsOf('00:04.0#phys1#2#0x1e,00:05.0#phys2#x#0xfc02,00:04.0#phys3#2#0xfc000'), [
    'NIC entry 1 "00:04.0#phys1#2#0x1e": core mask 0x1e has 3 occupied core(s) [2,3,4] besides master core 1; 2 vhost(s) need exactly 6 (2 forwarders per vhost + classifier + merger)',
    'NIC entry 2 "00:05.0#phys2#x#0xfc02": field num_vhost: must be a positive integer, got "x"',
    'NIC entry 3 "00:04.0#phys3#2#0xfc000": PCI address 00:04.0 is already used by NIC entry 1 "00:04.0#phys1#2#0x1e"',
    'NIC entry 3 "00:04.0#phys3#2#0xfc000": core mask 0xfc000 has 5 occupied core(s) [15,16,17,18,19] besides master core 14; 2 vhost(s) need exactly 6 (2 forwarders per vhost + classifier + merger)',
  ]);
});

test('limits of the real spp-ctl: more than 5 vhosts per NIC is a warning', (t) => {
  const r = parseMappings('00:04.0#phys1#6#0xfffe');
  t.deepEqual(r.errors, []);
  t.deepEqual(r.warnings, [
    'NIC entry 1 "00:04.0#phys1#6#0xfffe": 6 vhosts; the status of an spp_vf with more than 5 vhosts reaches 4096 bytes, ' +
      'which the real spp-ctl cannot return (HTTP 500): use at most 5 with a real spp-ctl',
  ]);
  t.truthy(r.configuration);
});

test('limits of spp_vf: 14 vhosts per NIC and port numbers up to 31 are errors unless lenient', (t) => {
  const big = `00:04.0#phys1#15#0x${(2n ** 34n - 2n).toString(16)}`;
  t.deepEqual(parseMappings(big).errors, [`NIC entry 1 "${big}": 15 vhosts; the spp_vf core allocation serves at most ${MAX_VHOSTS_PER_NIC} per NIC`]);
  const lenient = parseMappings(big, { beyondRealLimits: true });
  t.deepEqual(lenient.errors, []);
  t.deepEqual(lenient.warnings, [`NIC entry 1 "${big}": 15 vhosts; the spp_vf core allocation serves at most 14 per NIC`]);

  // 17 vhosts over two NICs: vhost 16 needs ring:33.
  const a = `00:04.0#p1#9#0x${(2n ** 21n - 1n).toString(16)}`;
  const b = `00:05.0#p2#8#0x${((2n ** 19n - 1n) << 21n).toString(16)}`;
  const ports = parseMappings(`${a},${b}`).errors;
  t.deepEqual(ports, [`NIC entry 2 "${b}": vhost ids 9-16 need ring ports up to ring:33; spp_vf port numbers stop at 31 (at most 16 vhosts per host)`]);
  t.deepEqual(parseMappings(`${a},${b}`, { beyondRealLimits: true }).errors, []);
});

test('cores above 127 are rejected', (t) => {
  const mask = `0x${((2n ** 6n - 1n) << 123n).toString(16)}`;
  t.deepEqual(errorsOf(`00:04.0#phys1#2#${mask}`), [
    `NIC entry 1 "00:04.0#phys1#2#${mask}": core mask ${mask} has 5 occupied core(s) [124,125,126,127,128] besides master core 123; 2 vhost(s) need exactly 6 (2 forwarders per vhost + classifier + merger)`,
    `NIC entry 1 "00:04.0#phys1#2#${mask}": core mask ${mask} uses core(s) 128 above 127`,
  ]);
});

test('validateConfiguration labels entries the way its caller wants', (t) => {
  const r = validateConfiguration(
    [
      { pci_address: '00:04.0', physical_network: 'a', num_vhost: 1, core_mask: '0x3e' },
      { pci_address: '00:04.0', physical_network: 'b', num_vhost: 1, core_mask: '0x3e0' },
    ],
    (i) => `NIC ${i}`,
  );
  t.deepEqual(r.errors, ['NIC 1: PCI address 00:04.0 is already used by NIC 0']);
});
