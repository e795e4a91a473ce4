/**
 * spp_vf's text command protocol (spec section 4): the decoder, with its word
 * counts, decode order and C number syntax, and the reply encoder with
 * spp_vf's own JSON spacing. Decoding needs a few facts about the vf's state
 * (the real decoder checks port use while decoding), asked through
 * DecodeContext so that this module stays pure.
 */

import { behaviourOf, type ClassifierType, ERROR_TEXTS, type ErrorStyle, type ReleaseBehaviour } from '../releases';

export type PortType = 'phy' | 'vhost' | 'ring';
export type Dir = 'rx' | 'tx';
export type ComponentType = 'forward' | 'merge' | ClassifierType | 'mirror';
/** spp_vf and spp_mirror share the decoder and runner (built from the same src/vf/common); they differ in these types. */
export type ProcessKind = 'vf' | 'mirror';
/** The component types a process takes: spp_vf's classifier is spelled as its release spells it. */
export function componentTypes(kind: ProcessKind, release: Pick<ReleaseBehaviour, 'classifierType'>): readonly ComponentType[] {
  return kind === 'mirror' ? ['mirror'] : ['forward', 'merge', release.classifierType];
}

export interface PortRef {
  readonly type: PortType;
  readonly n: number;
}
export const portName = (p: PortRef): string => `${p.type}:${p.n}`;

/** RTE_MAX_ETHPORTS: port tables hold 32 ports per type. */
export const PORTS_PER_TYPE = 32;
export const MAX_LCORE_ID = 127;
export const MAX_WORDS = 8;
/** SPP_CMD_VALUE_BUFSZ: a word must be shorter than this. */
export const MAX_WORD_LENGTH = 111;
/** The component name buffer is 32 bytes; longer names are undefined behaviour. */
export const MAX_NAME_LENGTH = 31;
export const VLAN_ID_MAX = 4095;
export const PCP_MAX = 7;
/** SPP_DEFAULT_CLASSIFIED_DMY_ADDR 00:00:00:00:00:01 as spp_vf's int64 (first byte lowest). */
export const DEFAULT_MAC = 1n << 40n;

export type VlanOp = { readonly op: 'add'; readonly vid: number; readonly pcp: number } | { readonly op: 'del' };

export type Command =
  | { readonly cmd: 'status' }
  | { readonly cmd: '_get_client_id' }
  | { readonly cmd: 'exit' }
  | { readonly cmd: 'component_start'; readonly name: string; readonly core: number; readonly type: ComponentType }
  | { readonly cmd: 'component_stop'; readonly name: string }
  | {
      readonly cmd: 'port';
      readonly action: 'add' | 'del';
      readonly port: PortRef;
      readonly dir: Dir;
      readonly name: string;
      readonly vlan?: VlanOp;
      /** The 8-word add_vlantag form, which skips the in-use checks. */
      readonly override: boolean;
    }
  | { readonly cmd: 'classifier_table'; readonly action: 'add' | 'del'; readonly vid: number; readonly mac: bigint; readonly port: PortRef };

/** What the decoder needs to know of the release (default: 18.08's). */
export type DecodeRelease = Pick<ReleaseBehaviour, 'classifierType' | 'mixedCoreTypes' | 'errorStyle'>;

/** What the decoder needs to know about the vf. */
export interface DecodeContext {
  /** The component types this process accepts (default spp_vf's). */
  readonly componentTypes?: readonly ComponentType[];
  componentExists(name: string): boolean;
  /** Type of the components a core hosts (management view), if any. */
  coreType(core: number): ComponentType | undefined;
  /** Whether some component has the port in that direction (management lists). */
  portInUse(port: PortRef, dir: Dir): boolean;
  portAdded(port: PortRef): boolean;
  /** The port's classifier identity: VLAN id and MAC (empty = 4095 and 0). */
  portIdentity(port: PortRef): { readonly vid: number; readonly mac: bigint };
}

export type Decoded = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly message: string };

/** A decode failure in the release's words (18.08.3 renamed them). */
interface Fail {
  bad(name: string): Decoded;
  readonly format: Decoded;
}
const failures = (style: ErrorStyle): Fail => {
  const texts = ERROR_TEXTS[style];
  return { bad: (name) => ({ ok: false, message: texts.badValue(name) }), format: { ok: false, message: texts.badFormat } };
};
const FAILS: Record<ErrorStyle, Fail> = { 'bad-value': failures('bad-value'), 'invalid-value': failures('invalid-value') };
const RELEASE_18_08: DecodeRelease = behaviourOf('18.08');

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * C strtol/strtoul with base 0 over a whole word: undefined unless digits
 * were read and the word was consumed. Returns the value as C's `long`
 * (clamped like strtol) or `unsigned long` (wrapped like strtoul).
 */
export function cStrto(word: string, unsigned: boolean, base0 = true): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([-+]?)(.*)$/s.exec(word)!;
  const sign = m[1]!;
  let rest = m[2]!;
  let radix = 10;
  if (base0) {
    if (/^0[xX][0-9a-fA-F]/.test(rest)) {
      radix = 16;
      rest = rest.slice(2);
    } else if (rest.startsWith('0')) radix = 8;
  } else {
    radix = 16;
    if (/^0[xX][0-9a-fA-F]/.test(rest)) rest = rest.slice(2);
  }
  const digitRe = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digitRe.test(rest)) return undefined;
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '';
  const mag = BigInt(prefix + rest);
  if (unsigned) {
    const clamped = mag > UINT64_MAX ? UINT64_MAX : mag;
    return sign === '-' ? (UINT64_MAX + 1n - clamped) & UINT64_MAX : clamped;
  }
  const v = sign === '-' ? -mag : mag;
  return v > INT64_MAX ? INT64_MAX : v < -INT64_MAX - 1n ? -INT64_MAX - 1n : v;
}

/** spp_vf stores strtol's long into an int (get_int_value): the low 32 bits, signed. */
const toCInt = (v: bigint): number => Number(BigInt.asIntN(32, v));
const toCUint = (v: bigint): number => Number(BigInt.asUintN(32, v));

/**
 * The words the agent sends: `0` or a decimal of up to 9 digits without
 * sign, spaces or leading zero, which strtol base 0 reads as the plain number
 * (and an int holds). Undefined for anything else, which goes through cStrto.
 */
function plainDecimal(word: string, from = 0): number | undefined {
  const len = word.length - from;
  if (len <= 0 || len > 9 || (len > 1 && word.charCodeAt(from) === 0x30)) return undefined;
  let n = 0;
  for (let i = from; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

function intInRange(word: string, min: number, max: number): number | undefined {
  let n = plainDecimal(word);
  if (n === undefined) {
    const v = cStrto(word, false);
    if (v === undefined) return undefined;
    n = toCInt(v);
  }
  return n >= min && n <= max ? n : undefined;
}

const PORT_PREFIXES: ReadonlyArray<readonly [string, PortType]> = [
  ['ring:', 'ring'],
  ['vhost:', 'vhost'],
  ['phy:', 'phy'],
];

/** `phy:N`, `vhost:N`, `ring:N` (case-sensitive, strtol base 0, C int). */
export function parsePortWord(word: string): PortRef | undefined {
  for (const [prefix, type] of PORT_PREFIXES) {
    if (!word.startsWith(prefix)) continue;
    const n = plainDecimal(word, prefix.length);
    if (n !== undefined) return { type, n };
    break;
  }
  const m = /^(phy|vhost|ring):(.*)$/s.exec(word);
  if (!m) return undefined;
  const v = cStrto(m[2]!, false);
  return v === undefined ? undefined : { type: m[1] as PortType, n: toCInt(v) };
}

const hexDigit = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

/** `hh:hh:hh:hh:hh:hh` with two hex digits per field (what the agent sends) as parseMac reads it; undefined for any other form. */
function canonicalMac(text: string): bigint | undefined {
  if (text.length !== 17) return undefined;
  let mac = 0;
  for (let f = 0; f < 6; f++) {
    const at = f * 3;
    if (f > 0 && text.charCodeAt(at - 1) !== 0x3a) return undefined;
    const hi = hexDigit(text.charCodeAt(at));
    const lo = hexDigit(text.charCodeAt(at + 1));
    if (hi < 0 || lo < 0) return undefined;
    // below 2^48: exact in a double
    mac += (hi * 16 + lo) * 2 ** (8 * f);
  }
  return BigInt(mac);
}

/**
 * spp_change_mac_str_to_int64: fields split on ':' (empty ones skipped), each
 * read with strtol base 16 into an int and OR-ed in at 8 bits per field; a
 * field that is not pure hex stops parsing silently. A 7th field, or a value
 * that makes the int64 negative, is an error (undefined).
 */
export function parseMac(text: string): bigint | undefined {
  const canonical = canonicalMac(text);
  if (canonical !== undefined) return canonical;
  let mac = 0n;
  let count = 0;
  for (const field of text.split(':').filter((f) => f !== '')) {
    if (count >= 6) return undefined;
    const v = cStrto(field, false, false);
    if (v === undefined) break;
    mac = BigInt.asIntN(64, mac | BigInt.asIntN(64, BigInt(toCInt(v)) << BigInt(count * 8)));
    count++;
  }
  return mac < 0n ? undefined : mac;
}

/** DPDK's formatting of the stored MAC: upper-case hex, first byte first. */
export function formatMac(mac: bigint): string {
  return Array.from({ length: 6 }, (_, i) =>
    Number((mac >> BigInt(8 * i)) & 0xffn)
      .toString(16)
      .toUpperCase()
      .padStart(2, '0'),
  ).join(':');
}

const COMMAND_WORDS: Record<string, [number, number]> = {
  _get_client_id: [1, 1],
  status: [1, 1],
  exit: [1, 1],
  component: [3, 5],
  port: [5, 8],
  classifier_table: [5, 6],
};

export function splitWords(text: string): string[] {
  const words = text.split(' ');
  return words.includes('') ? words.filter((w) => w !== '') : words;
}

/** Decodes one command text the way spp_vf's command_dec.c does. */
export function decodeCommand(text: string, ctx: DecodeContext, release: DecodeRelease = RELEASE_18_08): Decoded {
  const { bad, format: BAD_FORMAT } = FAILS[release.errorStyle];
  const words = splitWords(text);
  if (words.length > MAX_WORDS || words.some((w) => w.length >= MAX_WORD_LENGTH)) return BAD_FORMAT;
  const first = words[0] ?? '';
  const range = Object.hasOwn(COMMAND_WORDS, first) ? COMMAND_WORDS[first] : undefined;
  if (range === undefined) return bad('command');
  if (words.length < range[0] || words.length > range[1]) return BAD_FORMAT;
  switch (first) {
    case 'status':
    case 'exit':
    case '_get_client_id':
      return { ok: true, command: { cmd: first } };
    case 'component':
      return decodeComponent(words, ctx, release);
    case 'port':
      return decodePort(words, ctx, FAILS[release.errorStyle]);
    default:
      return decodeClassifier(words, ctx, FAILS[release.errorStyle]);
  }
}

function decodeComponent(words: string[], ctx: DecodeContext, release: DecodeRelease): Decoded {
  const { bad } = FAILS[release.errorStyle];
  const [, action, name] = words as [string, string, string];
  if (action !== 'start' && action !== 'stop') return bad('action');
  if (name.length > MAX_NAME_LENGTH) return bad('component name');
  if (action === 'stop') return { ok: true, command: { cmd: 'component_stop', name } };
  if (ctx.componentExists(name)) return bad('component name');
  const coreWord = words[3];
  const coreValue = coreWord === undefined ? undefined : cStrto(coreWord, true);
  const core = coreValue === undefined ? undefined : toCUint(coreValue);
  if (core === undefined || core > MAX_LCORE_ID) return bad('core');
  const type = words[4] as ComponentType | undefined;
  if (type === undefined || !(ctx.componentTypes ?? componentTypes('vf', release)).includes(type)) return bad('component type');
  const hosted = ctx.coreType(core);
  if (!release.mixedCoreTypes && hosted !== undefined && hosted !== type) return bad('component type');
  return { ok: true, command: { cmd: 'component_start', name, core, type } };
}

const inTable = (p: PortRef): boolean => p.n >= 0 && p.n < PORTS_PER_TYPE;

function decodePort(words: string[], ctx: DecodeContext, { bad, format: BAD_FORMAT }: Fail): Decoded {
  const [, action, portWord, dirWord, name] = words as [string, string, string, string, string];
  if (action !== 'add' && action !== 'del') return bad('action');
  const override = action === 'add' && words.length === MAX_WORDS;
  const checkUse = action === 'add' && !override;
  const port = parsePortWord(portWord);
  if (port === undefined || !inTable(port)) return bad('port');
  if (checkUse && ctx.portInUse(port, 'rx') && ctx.portInUse(port, 'tx')) return bad('port');
  if (dirWord !== 'rx' && dirWord !== 'tx') return bad('port rxtx');
  const dir: Dir = dirWord;
  if (checkUse && ctx.portInUse(port, dir)) return bad('port rxtx');
  if (!ctx.componentExists(name)) return bad('component name');
  let vlan: VlanOp | undefined;
  const opWord = words[5];
  if (opWord !== undefined) {
    if (opWord === 'del_vlantag') {
      if (words.length !== 6) return BAD_FORMAT;
      vlan = { op: 'del' };
    } else if (opWord === 'add_vlantag') {
      const vid = words[6] === undefined ? undefined : intInRange(words[6], 0, VLAN_ID_MAX);
      if (vid === undefined) return words[6] === undefined ? BAD_FORMAT : bad('port vid');
      const pcp = words[7] === undefined ? undefined : intInRange(words[7], 0, PCP_MAX);
      if (pcp === undefined) return words[7] === undefined ? BAD_FORMAT : bad('port pcp');
      vlan = { op: 'add', vid, pcp };
    } else {
      return bad('port vlan operation');
    }
  }
  return { ok: true, command: { cmd: 'port', action, port, dir, name, override, ...(vlan ? { vlan } : {}) } };
}

function decodeClassifier(words: string[], ctx: DecodeContext, { bad }: Fail): Decoded {
  const action = words[1]!;
  if (action !== 'add' && action !== 'del') return bad('action');
  const type = words[2]!;
  if (type !== 'mac' && type !== 'vlan') return bad('type');
  let vid = 0;
  let at = 3;
  if (words.length === 6) {
    const v = intInRange(words[3]!, 0, VLAN_ID_MAX);
    if (v === undefined) return bad('vlan id');
    vid = v;
    at = 4;
  }
  if (type === 'mac') vid = VLAN_ID_MAX;
  const macWord = words[at]!;
  const mac = macWord === 'default' ? DEFAULT_MAC : parseMac(macWord);
  if (mac === undefined) return bad('mac address');
  const port = parsePortWord(words[at + 1]!);
  if (port === undefined || !inTable(port) || !ctx.portAdded(port)) return bad('port');
  const held = ctx.portIdentity(port);
  if (action === 'add' && (held.vid !== VLAN_ID_MAX || held.mac !== 0n)) return bad('port');
  if (action === 'del' && (held.vid !== vid || held.mac !== mac)) return bad('port');
  return { ok: true, command: { cmd: 'classifier_table', action, vid, mac, port } };
}

// Reply encoding, with spp_vf's spacing: `{ "results": [ { "result": "success" } ] }`.
// Strings are written raw, as spp_vf's sprintf does (no escaping).

export type SppJson = number | string | readonly SppJson[] | { readonly [k: string]: SppJson };

export function encodeSpp(v: SppJson): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `"${v}"`;
  // loops rather than map/join: a status is thousands of values, encoded on every GET
  let out = '';
  if (Array.isArray(v)) {
    for (const x of v as readonly SppJson[]) out += out === '' ? `[ ${encodeSpp(x)}` : `, ${encodeSpp(x)}`;
    return out === '' ? '[  ]' : `${out} ]`;
  }
  const o = v as { readonly [k: string]: SppJson };
  for (const k in o) out += `${out === '' ? '{ ' : ', '}"${k}": ${encodeSpp(o[k]!)}`;
  return out === '' ? '{  }' : `${out} }`;
}

/** The reply of every command that succeeded without data (most of them): encoded once. */
export const SUCCESS_REPLY = encodeSpp({ results: [{ result: 'success' }] });

export function successReply(extra: Record<string, SppJson> = {}): string {
  for (const _ in extra) return encodeSpp({ results: [{ result: 'success' }], ...extra });
  return SUCCESS_REPLY;
}

export function errorReply(message: string): string {
  return encodeSpp({ results: [{ result: 'error', error_details: { message } }] });
}
