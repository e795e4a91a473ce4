/**
 * The few pieces of Python that spp-ctl's answers depend on: `json.loads`
 * (which keeps integers and floats apart, unlike JSON.parse), `str()`/`repr()`
 * of the decoded values (they appear in commands and error texts), `int()`
 * conversion and `json.dumps` with its default separators and ensure_ascii.
 */

export type PyValue =
  | { readonly k: 'int'; readonly v: bigint }
  | { readonly k: 'float'; readonly v: number }
  | { readonly k: 'str'; readonly v: string }
  | { readonly k: 'bool'; readonly v: boolean }
  | { readonly k: 'none' }
  | { readonly k: 'list'; readonly v: PyValue[] }
  | { readonly k: 'dict'; readonly v: Map<string, PyValue> };

export class PyJsonError extends Error {}

// Built once: every request body goes through pyJsonLoads. The values are never mutated.
const LITERALS: ReadonlyArray<readonly [string, PyValue]> = [
  ['true', { k: 'bool', v: true }],
  ['false', { k: 'bool', v: false }],
  ['null', { k: 'none' }],
  ['NaN', { k: 'float', v: NaN }],
  ['Infinity', { k: 'float', v: Infinity }],
  ['-Infinity', { k: 'float', v: -Infinity }],
];
const NUMBER = /(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Python's json.loads: throws PyJsonError where Python raises ValueError. */
export function pyJsonLoads(text: string): PyValue {
  let i = 0;
  const ws = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  const fail = (what: string): never => {
    throw new PyJsonError(`${what} at char ${i}`);
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map<string, PyValue>();
      ws();
      if (text[i] === '}') {
        i++;
        return { k: 'dict', v: m };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
        const key = string();
        ws();
        if (text[i] !== ':') fail("Expecting ':' delimiter");
        i++;
        m.set(key, value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { k: 'dict', v: m };
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '[') {
      i++;
      const a: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { k: 'list', v: a };
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { k: 'list', v: a };
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '"') return { k: 'str', v: string() };
    for (const [word, v] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('Expecting value');
    i += m[0].length;
    return m[2] === undefined && m[3] === undefined ? { k: 'int', v: BigInt(m[1]!) } : { k: 'float', v: Number(m[0]) };
  };
  const string = (): string => {
    const start = i;
    i++;
    let out = '';
    // plain characters are copied a run at a time
    let run = i;
    for (;;) {
      if (i >= text.length) {
        i = start;
        fail('Unterminated string starting');
      }
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('Invalid control character');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(run, i);
      const e = text[i + 1];
      if (e !== undefined && Object.hasOwn(SIMPLE_ESCAPES, e)) {
        out += SIMPLE_ESCAPES[e];
        i += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        fail('Invalid \\escape');
      }
      run = i;
    }
  };
  const v = value();
  ws();
  if (i !== text.length) fail('Extra data');
  return v;
}

/** Python's repr() of a float. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      body = `${intPart}.${frac === '' ? '0' : frac}`;
    } else {
      body = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return (neg ? '-' : '') + body;
}

function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

export function pyRepr(v: PyValue): string {
  switch (v.k) {
    case 'str':
      return pyStrRepr(v.v);
    case 'list':
      return `[${v.v.map(pyRepr).join(', ')}]`;
    case 'dict':
      return `{${[...v.v].map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
    default:
      return pyStr(v);
  }
}

/** Python's str(): strings as they are, everything else as repr(). */
export function pyStr(v: PyValue): string {
  switch (v.k) {
    case 'int':
      return v.v.toString();
    case 'float':
      return pyFloatRepr(v.v);
    case 'str':
      return v.v;
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    default:
      return pyRepr(v);
  }
}

/** Python truthiness. */
export function pyTruthy(v: PyValue): boolean {
  switch (v.k) {
    case 'int':
      return v.v !== 0n;
    case 'float':
      return v.v !== 0;
    case 'str':
      return v.v !== '';
    case 'bool':
      return v.v;
    case 'none':
      return false;
    case 'list':
      return v.v.length > 0;
    case 'dict':
      return v.v.size > 0;
  }
}

/** `x == y` for the literal strings spp-ctl compares against. */
export function pyIsStr(v: PyValue | undefined, ...allowed: string[]): boolean {
  return v !== undefined && v.k === 'str' && allowed.includes(v.v);
}

/** Python's int(x): undefined where Python raises. */
export function pyInt(v: PyValue): bigint | undefined {
  switch (v.k) {
    case 'int':
      return v.v;
    case 'bool':
      return v.v ? 1n : 0n;
    case 'float':
      return Number.isFinite(v.v) ? BigInt(Math.trunc(v.v)) : undefined;
    case 'str': {
      const m = /^[ \t\n\r\f\v]*([-+]?)([0-9]+(?:_[0-9]+)*)[ \t\n\r\f\v]*$/.exec(v.v);
      if (!m) return undefined;
      const n = BigInt(m[2]!.replace(/_/g, ''));
      return m[1] === '-' ? -n : n;
    }
    default:
      return undefined;
  }
}

/** Python's `'%d' % x`: undefined where Python raises (strings, None, nan, inf). */
export function pyPercentD(v: PyValue): string | undefined {
  if (v.k === 'str') return undefined;
  return pyInt(v)?.toString();
}

/** A plain JSON value (from JSON.parse or our own objects) as a PyValue. */
export function toPy(x: unknown): PyValue {
  if (x === null || x === undefined) return { k: 'none' };
  if (typeof x === 'boolean') return { k: 'bool', v: x };
  if (typeof x === 'number') return Number.isInteger(x) ? { k: 'int', v: BigInt(x) } : { k: 'float', v: x };
  if (typeof x === 'string') return { k: 'str', v: x };
  if (Array.isArray(x)) return { k: 'list', v: x.map(toPy) };
  return { k: 'dict', v: new Map(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, toPy(v)])) };
}

/** Characters json.dumps writes as they are (printable ASCII but `"` and `\\`). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function dumpStr(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Python's json.dumps with default arguments: one line, separators ", " and
 * ": ", non-ASCII escaped. Takes plain JSON-able values (strings, integers,
 * booleans, null, arrays, objects in insertion order).
 */
export function pyJsonDumps(x: unknown): string {
  if (x === null || x === undefined) return 'null';
  if (typeof x === 'boolean') return x ? 'true' : 'false';
  if (typeof x === 'number') return Number.isInteger(x) ? String(x) : pyFloatRepr(x).replace('inf', 'Infinity').replace('nan', 'NaN');
  if (typeof x === 'string') return dumpStr(x);
  // loops rather than map/join/entries: every status answer is dumped (about 2 KB, hundreds of values)
  if (Array.isArray(x)) {
    if (x.length === 0) return '[]';
    let out = `[${pyJsonDumps(x[0])}`;
    for (let i = 1; i < x.length; i++) out += `, ${pyJsonDumps(x[i])}`;
    return `${out}]`;
  }
  const o = x as Record<string, unknown>;
  // Object.keys: the order Object.entries gives (integer-like keys first, then insertion order)
  const ks = Object.keys(o);
  if (ks.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < ks.length; i++) out += `${i === 0 ? '' : ', '}${dumpStr(ks[i]!)}: ${pyJsonDumps(o[ks[i]!])}`;
  return `${out}}`;
}
