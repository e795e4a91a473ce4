import test from 'ava';
import { hostKeyRanges, hostOfKey, hostProblem, keyProblem, keys, parseKey, prefixes, ROOT } from '../src/protocol/keys';
import { CONTROL_CHARACTER, printable } from '../src/protocol/printable';

test('key builders produce the keys of the spec', (t) => {
  t.is(keys.configuration('spp4'), '/spp/openstack/configuration/spp4');
  t.is(keys.vhost('spp4', 'phys1', 0), '/spp/openstack/vhost/spp4/phys1/0');
  t.is(keys.bindPort('spp4', 'p1'), '/spp/openstack/bind_port/spp4/p1');
  t.is(keys.action('spp4', 'p1'), '/spp/openstack/action/spp4/p1');
  t.is(keys.portStatus('spp4', 'p1'), '/spp/openstack/port_status/spp4/p1');
  t.is(keys.agent('spp4'), '/spp/openstack/agent/spp4');
});

test('key builders refuse segments that would change the key structure', (t) => {
  t.throws(() => keys.configuration(''), { message: 'invalid host "": must be non-empty and contain no \'/\' nor control character' });
  t.throws(() => keys.bindPort('spp4', 'a/b'), { message: 'invalid port id "a/b": must be non-empty and contain no \'/\' nor control character' });
  t.throws(() => keys.vhost('spp4', 'ph/ys', 0), { message: /invalid physical network "ph\/ys"/ });
  t.throws(() => keys.vhost('spp4', 'phys1', -1), { message: 'invalid vhost id -1: must be an integer >= 0' });
  t.throws(() => keys.vhost('spp4', 'phys1', 1.5), { message: 'invalid vhost id 1.5: must be an integer >= 0' });
});

test('prefixes end in a slash so host spp4 never matches spp40', (t) => {
  t.is(prefixes.vhostOfHost('spp4'), '/spp/openstack/vhost/spp4/');
  t.is(prefixes.vhostOfPhys('spp4', 'phys1'), '/spp/openstack/vhost/spp4/phys1/');
  t.is(prefixes.bindPortOfHost('spp4'), '/spp/openstack/bind_port/spp4/');
  t.is(prefixes.actionOfHost('spp4'), '/spp/openstack/action/spp4/');
  t.is(prefixes.portStatusOfHost('spp4'), '/spp/openstack/port_status/spp4/');
  t.false(keys.vhost('spp40', 'phys1', 0).startsWith(prefixes.vhostOfHost('spp4')));
  t.deepEqual(hostKeyRanges('h'), {
    exact: ['/spp/openstack/configuration/h', '/spp/openstack/agent/h', '/spp/openstack/agent-lock/h'],
    prefixes: [
      '/spp/openstack/vhost/h/',
      '/spp/openstack/bind_port/h/',
      '/spp/openstack/action/h/',
      '/spp/openstack/port_status/h/',
      '/spp/openstack/mirror/h/',
      '/spp/openstack/tap_info/h/',
      '/spp/openstack/tap_action/h/',
      '/spp/openstack/tap_status/h/',
    ],
  });
});

test('parseKey reads back every kind of key', (t) => {
  t.deepEqual(parseKey(keys.configuration('spp4')), { kind: 'configuration', host: 'spp4' });
  t.deepEqual(parseKey(keys.agent('spp4')), { kind: 'agent', host: 'spp4' });
  t.is(keys.agentLock('spp4'), '/spp/openstack/agent-lock/spp4');
  t.deepEqual(parseKey(keys.agentLock('spp4')), { kind: 'agent-lock', host: 'spp4' });
  t.is(parseKey(`${keys.agentLock('spp4')}/1234`), undefined, 'nothing lives beneath the lock');
  t.deepEqual(parseKey(keys.vhost('spp4', 'phys2', 13)), { kind: 'vhost', host: 'spp4', phys: 'phys2', vhostId: 13 });
  for (const kind of ['bind_port', 'action', 'port_status'] as const) {
    t.deepEqual(parseKey(`${ROOT}${kind}/spp4/6160c9da-b2d5-4236-8413-7d646e5c0ae2`), {
      kind,
      host: 'spp4',
      portId: '6160c9da-b2d5-4236-8413-7d646e5c0ae2',
    });
  }
  t.is(hostOfKey(keys.portStatus('h1', 'p')), 'h1');
});

test('parseKey rejects everything that is not a protocol key', (t) => {
  for (const key of [
    '/spp/other',
    '/spp/openstack/',
    '/spp/openstack/configuration/',
    '/spp/openstack/configuration/h/extra',
    '/spp/openstack/unknown/h',
    '/spp/openstack/vhost/h/phys1',
    '/spp/openstack/vhost/h/phys1/x',
    '/spp/openstack/vhost/h/phys1/01',
    '/spp/openstack/vhost/h/phys1/-1',
    '/spp/openstack/vhost/h/phys1/0/more',
    '/spp/openstack/vhost//phys1/0',
    '/spp/openstack/bind_port/h',
    '/spp/openstack/bind_port/h/p/q',
    '/spp/openstack/action/h/',
    'spp/openstack/configuration/h',
  ]) {
    t.is(parseKey(key), undefined, key);
  }
  t.is(hostOfKey('/spp/other'), undefined);
});

test('control characters (C0 with newlines, DEL, C1) in any segment: parseKey refuses the key, keyProblem names it escaped, builders refuse them', (t) => {
  for (const c of ['\u001b', '\n', '\r', '\u0000', '\u007f', '\u009b', '\u0085']) {
    for (const key of [`${ROOT}bind_port/spp4/p${c}1`, `${ROOT}action/sp${c}p4/p1`, `${ROOT}vhost/spp4/phys${c}1/0`, `${ROOT}configuration/spp4${c}`]) {
      t.is(parseKey(key), undefined, JSON.stringify(key));
      const problem = keyProblem(key);
      t.truthy(problem, JSON.stringify(key));
      t.regex(problem!, /holds the control character \\(x[0-9a-f]{2}|n|r); refused$/);
      t.notRegex(problem!, CONTROL_CHARACTER, 'the message itself is printable');
      t.notRegex(printable(key), CONTROL_CHARACTER, 'and so is the key it names');
    }
    t.throws(() => keys.portStatus('spp4', `p${c}`), {
      message: /invalid port id "p\\(u00|x|n|r)[0-9a-f]*": must be non-empty and contain no '\/' nor control character/,
    });
    t.truthy(hostProblem(`spp${c}4`));
  }
  t.is(keyProblem(`${ROOT}bind_port/spp4/p1`), undefined, 'a protocol key has no problem');
  t.is(keyProblem('/other/x\u001b'), undefined, 'nor a key outside the protocol');
  t.is(keyProblem(`${ROOT}agent-lock/spp4/1234`), undefined, 'nor a key of no protocol kind');
});

test('keyProblem: extra path segments, missing ones and a bad vhost id are strays, named', (t) => {
  t.is(keyProblem(`${ROOT}bind_port/spp4/p1/extra`), '1 path segment(s) more than a bind_port key has; ignored as stray');
  t.is(keyProblem(`${ROOT}vhost/spp4/phys1/0/a/b`), '2 path segment(s) more than a vhost key has; ignored as stray');
  t.regex(keyProblem(`${ROOT}vhost/spp4/phys1`)!, /a vhost key has 3 non-empty segment\(s\) after vhost\/; ignored as stray$/);
  t.regex(keyProblem(`${ROOT}action/spp4/`)!, /an? action key has 2 non-empty/);
  t.regex(keyProblem(`${ROOT}vhost/spp4/phys1/07`)!, /the vhost id "07" is not an integer >= 0/);
});

test('printable escapes controls, line separators and bidi overrides, and leaves other text alone', (t) => {
  t.is(printable('port-1 ü ✓'), 'port-1 ü ✓');
  t.is(printable('a\nb\r\tc'), 'a\\nb\\r\\tc');
  t.is(printable('\u001b[31mred\u001b[0m'), '\\x1b[31mred\\x1b[0m');
  t.is(printable('x\u007fy\u009bz\u0000'), 'x\\x7fy\\x9bz\\x00');
  t.is(printable('a\u2028b\u202ec\u2066d'), 'a\\u2028b\\u202ec\\u2066d');
  t.is(printable(printable('\u001b')), '\\x1b', 'escaping is idempotent on its own output');
});
