import test from 'ava';
import { hostKeyRanges, hostOfKey, keys, parseKey, prefixes, ROOT } from '../src/protocol/keys';

test('key builders produce the keys of the spec', (t) => {
  t.is(keys.configuration('spp4'), '/spp/openstack/configuration/spp4');
  t.is(keys.vhost('spp4', 'phys1', 0), '/spp/openstack/vhost/spp4/phys1/0');
  t.is(keys.bindPort('spp4', 'p1'), '/spp/openstack/bind_port/spp4/p1');
  t.is(keys.action('spp4', 'p1'), '/spp/openstack/action/spp4/p1');
  t.is(keys.portStatus('spp4', 'p1'), '/spp/openstack/port_status/spp4/p1');
  t.is(keys.agent('spp4'), '/spp/openstack/agent/spp4');
});

test('key builders refuse segments that would change the key structure', (t) => {
  t.throws(() => keys.configuration(''), { message: 'invalid host "": must be non-empty and contain no \'/\'' });
  t.throws(() => keys.bindPort('spp4', 'a/b'), { message: 'invalid port id "a/b": must be non-empty and contain no \'/\'' });
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
    prefixes: ['/spp/openstack/vhost/h/', '/spp/openstack/bind_port/h/', '/spp/openstack/action/h/', '/spp/openstack/port_status/h/'],
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
