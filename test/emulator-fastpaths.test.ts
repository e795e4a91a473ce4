/**
 * The spp_vf decoder's fast paths for the words the agent sends (plain
 * decimals, `hh:hh:hh:hh:hh:hh` MACs) give what the general C-number path
 * (cStrto) gives, on generated words around their edges.
 */
import test from 'ava';
import { cStrto, parseMac, parsePortWord } from '../src/sppctl/emulator/textproto';

/** A small deterministic generator (the tests must repeat). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('port words: every decimal form (leading zeros, 1-11 digits, 0) reads as strtol base 0 into a C int', (t) => {
  const next = rng(7);
  const words = ['0', '00', '08', '010', '9', '999999999', '1000000000', '2147483647', '2147483648', '4294967297', '12345678901'];
  for (let i = 0; i < 2000; i++) {
    const len = 1 + Math.floor(next() * 11);
    let w = '';
    for (let j = 0; j < len; j++) w += String(Math.floor(next() * 10));
    words.push(w);
  }
  for (const w of words) {
    const v = cStrto(w, false);
    const expected = v === undefined ? undefined : { type: 'ring', n: Number(BigInt.asIntN(32, v)) };
    t.deepEqual(parsePortWord(`ring:${w}`), expected, w);
  }
});

test('MACs: two hex digits per field, any case, read as spp_vf reads each field (strtol base 16, first byte lowest)', (t) => {
  const next = rng(11);
  const hex = '0123456789abcdefABCDEF';
  const macs = ['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:01', 'FA:16:3e:00:9A:0b'];
  for (let i = 0; i < 2000; i++) {
    macs.push(Array.from({ length: 6 }, () => hex[Math.floor(next() * hex.length)]! + hex[Math.floor(next() * hex.length)]!).join(':'));
  }
  for (const mac of macs) {
    const fields = mac.split(':').map((f) => cStrto(f, false, false)!);
    const expected = fields.reduce((acc, v, i) => acc | (v << BigInt(8 * i)), 0n);
    t.is(parseMac(mac), expected, mac);
  }
  // other forms still take the general path
  t.is(parseMac('1:2:3:4:5:6'), 0x060504030201n);
  t.is(parseMac('0x1f:00:00:00:00:00'), 0x1fn);
  t.is(parseMac('fa:16:3e:00:00:0g'), 0x3e16fan, 'a field that is not hex stops the parse');
});
