/**
 * Bounds on values read from etcd, checked before a value is parsed, printed
 * or logged. Anyone who can write under /spp/openstack/ can put a value of
 * any size and shape there, and it stays until someone removes it: a value
 * that crashes the agent crashes every restart too. So a value too big or
 * nested too deep is refused up front, with a message naming the key and the
 * limit, and is that key's error like any other bad input.
 */
import { type KeyKind, parseKey } from './keys';

/**
 * Bytes (UTF-8) a value of each kind of key may have. A real bind_port is
 * about 100 bytes, a configuration about 130 bytes per NIC, a vhost value a
 * port id; the limits leave room for growth, not for megabytes.
 */
export const VALUE_LIMITS: Readonly<Record<KeyKind, number>> = {
  configuration: 64 * 1024,
  bind_port: 4 * 1024,
  vhost: 256,
  action: 64,
  port_status: 4 * 1024,
  agent: 4 * 1024,
  'agent-lock': 4 * 1024,
  // a tap flow id, or None
  mirror: 256,
  // two port ids and two mirror ids: about 150 bytes
  tap_info: 4 * 1024,
  tap_action: 64,
  tap_status: 4 * 1024,
};

/** For keys outside the protocol (callers that decode other values). */
export const DEFAULT_VALUE_LIMIT = 64 * 1024;

/** Arrays/objects inside one another: the protocol's values need 2. */
export const MAX_JSON_DEPTH = 16;

export function valueLimitOf(key: string): number {
  const kind = parseKey(key)?.kind;
  return kind ? VALUE_LIMITS[kind] : DEFAULT_VALUE_LIMIT;
}

/** Why the value of `key` is too big, or undefined. */
export function sizeProblem(key: string, raw: string): string | undefined {
  const limit = valueLimitOf(key);
  // a UTF-16 unit is at least one UTF-8 byte: most values need no count
  if (raw.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes <= limit) return undefined;
  const kind = parseKey(key)?.kind;
  return `${key}: value is ${bytes} bytes; ${kind ? `a ${kind} value` : 'a value'} may have at most ${limit} bytes`;
}

interface Frame {
  readonly array: boolean;
  index: number;
  key: string | undefined;
  expectKey: boolean;
}

const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/**
 * One pass over JSON text, without parsing it: the nesting depth, and number
 * literals no JavaScript number can hold (JSON.parse turns `1e400` into
 * Infinity, which every later message would show as `null`). Text that is
 * not JSON at all passes; JSON.parse reports it afterwards.
 */
export function jsonShapeProblem(raw: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: Frame[] = [];
  const where = (): string => {
    const path = stack.map((f) => (f.array ? String(f.index) : (f.key ?? '?'))).join('.');
    return path ? `field ${path}: ` : '';
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < raw.length && raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        top.expectKey = false;
        try {
          top.key = String(JSON.parse(raw.slice(i, Math.min(j + 1, i + 80)))); // field names in messages stay short
        } catch {
          top.key = raw.slice(i + 1, Math.min(j, i + 40));
        }
      }
      i = j;
    } else if (c === '[' || c === '{') {
      if (stack.length >= maxDepth) return `nested deeper than ${maxDepth} levels (arrays or objects inside one another)`;
      stack.push({ array: c === '[', index: 0, key: undefined, expectKey: c === '{' });
    } else if (c === ']' || c === '}') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.array) top.index++;
      else if (top) top.expectKey = true;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < raw.length && /[0-9eE+\-.]/.test(raw[j]!)) j++;
      const text = raw.slice(i, j);
      if (JSON_NUMBER.test(text) && !Number.isFinite(Number(text))) {
        return `${where()}the number ${text.length > 40 ? `${text.slice(0, 40)}...` : text} is beyond the range of a number (about 1.8e308)`;
      }
      i = j - 1;
    }
  }
  return undefined;
}
