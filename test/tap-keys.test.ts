/**
 * The TaaS keys and values (upstream-final 1b) in the protocol layer: every
 * reader parses them (so none treats them as stray), builders refuse what
 * parseKey would not read back, and tap_info decodes ints or null only.
 */
import test from 'ava';
import { decodeJson, decodeMirrorOwner, decodeText, pythonJson, TapAction, TapInfo, TapStatus } from '../src/protocol/codecs';
import { keyProblem, keys, parseKey } from '../src/protocol/keys';
import { sizeProblem, valueLimitOf } from '../src/protocol/limits';
import { checkInvariants } from '../src/replay/invariants';
import { groupHostViews } from '../src/setup/view';
import { renderHostStatus } from '../src/setup/view-text';

test('parseKey reads mirror, tap_info, tap_action and tap_status keys', (t) => {
  t.deepEqual(parseKey('/spp/openstack/mirror/spp4/10'), { kind: 'mirror', host: 'spp4', mirrorId: 10 });
  for (const kind of ['tap_info', 'tap_action', 'tap_status'] as const) {
    t.deepEqual(parseKey(`/spp/openstack/${kind}/spp4/tf-1`), { kind, host: 'spp4', tapFlowId: 'tf-1' });
  }
  t.is(keys.mirror('spp4', 2), '/spp/openstack/mirror/spp4/2');
  t.is(keys.tapInfo('spp4', 'tf'), '/spp/openstack/tap_info/spp4/tf');
  t.is(keys.tapAction('spp4', 'tf'), '/spp/openstack/tap_action/spp4/tf');
  t.is(keys.tapStatus('spp4', 'tf'), '/spp/openstack/tap_status/spp4/tf');
});

test('malformed TaaS keys are refused by parseKey and explained by keyProblem', (t) => {
  t.is(parseKey('/spp/openstack/mirror/spp4/01'), undefined);
  t.regex(keyProblem('/spp/openstack/mirror/spp4/x')!, /the mirror id "x" is not an integer >= 0/);
  t.regex(keyProblem('/spp/openstack/tap_info/spp4/tf/extra')!, /1 path segment\(s\) more than a tap_info key has/);
  t.regex(keyProblem('/spp/openstack/tap_status/spp4')!, /a tap_status key has 2 non-empty segment/);
  t.throws(() => keys.mirror('spp4', -1), { message: /invalid mirror id -1/ });
  t.throws(() => keys.tapInfo('spp4', 'a/b'), { message: /invalid tap flow id/ });
});

test('tap_info: the driver writes Python json.dumps with ints or null; other shapes are errors naming the field', (t) => {
  const key = keys.tapInfo('h', 'tf');
  const value = { service_port: 's', source_port: 'p', mirror_in: 0, mirror_out: null };
  t.is(pythonJson(value), '{"service_port": "s", "source_port": "p", "mirror_in": 0, "mirror_out": null}');
  t.deepEqual(decodeJson(TapInfo, key, pythonJson(value)), { ok: true, value });
  const bad = decodeJson(TapInfo, key, '{"service_port": "s", "source_port": "p", "mirror_in": "0", "mirror_out": null}');
  t.false(bad.ok);
  if (!bad.ok) t.regex(bad.error, /mirror_in/);
  t.false(decodeJson(TapInfo, key, '[1]').ok);
  t.false(decodeJson(TapInfo, key, '{"service_port": "s", "source_port": "p", "mirror_in": -1, "mirror_out": null}').ok);
  t.true(decodeText(TapAction, keys.tapAction('h', 'tf'), 'unplug').ok);
  t.false(decodeText(TapAction, keys.tapAction('h', 'tf'), 'stop').ok);
  t.true(decodeText(TapStatus, keys.tapStatus('h', 'tf'), 'up').ok);
  t.deepEqual(decodeMirrorOwner(keys.mirror('h', 0), 'None'), { ok: true, value: { free: true } });
  t.deepEqual(decodeMirrorOwner(keys.mirror('h', 0), 'tf'), { ok: true, value: { free: false, tapFlowId: 'tf' } });
  const none = decodeMirrorOwner(keys.mirror('h', 0), 'none');
  t.false(none.ok);
  if (!none.ok) t.regex(none.error, /must be "None" \(exactly\) or a tap flow id/);
});

test('value limits cover the TaaS kinds', (t) => {
  t.is(valueLimitOf(keys.mirror('h', 0)), 256);
  t.is(valueLimitOf(keys.tapAction('h', 'tf')), 64);
  t.regex(sizeProblem(keys.tapAction('h', 'tf'), 'x'.repeat(100))!, /a tap_action value may have at most 64 bytes/);
});

test('spp status and the replay invariants know the TaaS keys: listed per host, not stray; malformed ones stay stray of their host', (t) => {
  const values = {
    [keys.mirror('h', 0)]: 'tf',
    [keys.mirror('h', 1)]: 'None',
    [keys.tapInfo('h', 'tf')]: '{"service_port": "s", "source_port": "p", "mirror_in": 0, "mirror_out": null}',
    [keys.tapAction('h', 'tf')]: 'plug',
    [keys.tapStatus('h', 'tf')]: 'up',
  };
  const view = groupHostViews(values);
  const h = view.hosts.find((x) => x.host === 'h')!;
  t.deepEqual(h.strayKeys, []);
  t.deepEqual(
    h.tapFlows.map((f) => [f.tapFlowId, f.direction, f.mirrorIn, f.action, f.status]),
    [['tf', 'IN', 0, 'plug', 'up']],
  );
  t.is(h.mirrors.length, 2);
  const text = renderHostStatus(h);
  t.regex(text, /mirrors: 1 of 2 claimed; tap flows:/);
  t.regex(text, /tf\s+IN\s+s\s+p\s+0\s+-\s+plug\s+up/);
  t.deepEqual(
    checkInvariants(values).filter((v) => v.code === 'stray-key'),
    [],
  );
  const bad = groupHostViews({ ...values, '/spp/openstack/mirror/h/x': 'None' }).hosts.find((x) => x.host === 'h')!;
  t.deepEqual(
    bad.strayKeys.map((s) => s.key),
    ['/spp/openstack/mirror/h/x'],
  );
  // a claimed mirror whose flow has no tap_info is a problem of the host
  const half = groupHostViews({ [keys.mirror('h', 0)]: 'lost' }).hosts[0]!;
  t.regex(renderHostStatus(half), /tap flow lost mirror: mirror 0 claimed by this flow, but it has no tap_info/);
});
