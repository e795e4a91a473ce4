import test from 'ava';
import { BindPort, decodeJson, preview } from '../src/protocol/codecs';
import { ConfigurationValue } from '../src/protocol/configuration';
import { jsonShapeProblem, MAX_JSON_DEPTH, sizeProblem, VALUE_LIMITS } from '../src/protocol/limits';

const BIND = '/spp/openstack/bind_port/h/p';
const CONFIG = '/spp/openstack/configuration/h';

test('nesting within the limit passes, one level more is refused; text that is not JSON is left to JSON.parse', (t) => {
  t.is(jsonShapeProblem('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)), undefined);
  t.regex(jsonShapeProblem('['.repeat(MAX_JSON_DEPTH + 1))!, /nested deeper than 16 levels/);
  t.is(jsonShapeProblem('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\" [[["}'), undefined, 'brackets inside strings do not count');
  t.is(jsonShapeProblem('not json at all {{'), undefined);
});

test('a number literal beyond the float range is named as written, with its field', (t) => {
  t.is(jsonShapeProblem('{"vhost_id": 1e400}'), 'field vhost_id: the number 1e400 is beyond the range of a number (about 1.8e308)');
  t.regex(jsonShapeProblem('[{"pci_address": "00:04.0", "num_vhost": -2E+999}]')!, /^field 0\.num_vhost: the number -2E\+999 /);
  t.is(jsonShapeProblem('{"vhost_id": 1e300, "x": [1, 2.5, -0]}'), undefined);
  const d = decodeJson(BindPort, BIND, '{"vhost_id": 1e400, "mac_address": "fa:16:3e:00:00:01"}');
  t.false(d.ok);
  t.regex(d.ok ? '' : d.error, /^\/spp\/openstack\/bind_port\/h\/p: field vhost_id: the number 1e400/);
  t.notRegex(d.ok ? '' : d.error, /got null/);
});

test('sizes are per kind of key, counted in UTF-8 bytes, and the message names the key and the limit', (t) => {
  t.is(sizeProblem(BIND, 'x'.repeat(VALUE_LIMITS.bind_port)), undefined);
  t.is(sizeProblem(BIND, 'x'.repeat(VALUE_LIMITS.bind_port + 1)), `${BIND}: value is 4097 bytes; a bind_port value may have at most 4096 bytes`);
  t.regex(sizeProblem(BIND, 'é'.repeat(3000))!, /value is 6000 bytes/);
  t.is(sizeProblem(CONFIG, 'x'.repeat(20_000)), undefined, 'a configuration may be bigger than a bind_port');
  const big = decodeJson(ConfigurationValue, CONFIG, `[${' '.repeat(VALUE_LIMITS.configuration)}]`);
  t.regex(big.ok ? '' : big.error, /configuration value may have at most 65536 bytes/);
});

test('preview of values nested 100,000 deep, of huge objects and of non-finite numbers is short and does not overflow the stack', (t) => {
  const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
  t.throws(() => String(deep), { instanceOf: RangeError }, 'what the old preview did');
  t.is(preview(deep), `${'['.repeat(60)}...`);
  const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
  t.true(preview(wide).length <= 63);
  t.is(preview(Infinity), 'Infinity');
  t.is(preview([1, 'a', null, true]), '[1,"a",null,true]');
  t.is(preview({ a: { b: [] } }), '{"a":{"b":[]}}');
});
