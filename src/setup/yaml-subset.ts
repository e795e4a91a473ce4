/**
 * A strict reader for the small part of YAML that SPP_COMPONENT_CONF files
 * use (networking-spp's doc/source/customization.rst): block mappings and
 * sequences by indentation, `- key: value` items, flow sequences and
 * mappings (`['ring:0', 'ring:2']`, `{core: 16, ports: [...]}`), plain,
 * single- and double-quoted scalars, integers and comments. Anything else
 * (anchors, tags, block scalars, tabs, multi-line values) is refused with its
 * line number rather than read differently from PyYAML. No YAML package is a
 * dependency of this project; this shape needs none.
 */

export class YamlSubsetError extends Error {
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'YamlSubsetError';
  }
}

interface Line {
  readonly indent: number;
  readonly text: string;
  readonly no: number;
}

/** The text before a comment (`#` at the start or after a space, outside quotes). */
function stripComment(s: string): string {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '#' && (i === 0 || s[i - 1] === ' ')) return s.slice(0, i);
  }
  return s;
}

function lines(text: string): Line[] {
  const out: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const no = i + 1;
    if (/^\t| \t/.test(raw) || /^\s*\t/.test(raw)) throw new YamlSubsetError('tabs are not allowed for indentation', no);
    const body = stripComment(raw).trimEnd();
    if (body.trim() === '' || body === '---' || body === '...') return;
    if (/^%/.test(body)) throw new YamlSubsetError('directives are not supported', no);
    const indent = body.length - body.trimStart().length;
    out.push({ indent, text: body.trimStart(), no });
  });
  return out;
}

const isSeqItem = (text: string): boolean => text === '-' || text.startsWith('- ');
const KEY_RE = /^([A-Za-z_][A-Za-z0-9_.-]*|'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")\s*:(?:\s+|$)/;

function unquoteKey(k: string, no: number): string {
  return k.startsWith("'") || k.startsWith('"') ? (scalar(k, no) as string) : k;
}

function scalar(s: string, no: number): unknown {
  const t = s.trim();
  if (t.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(t)) throw new YamlSubsetError(`unterminated or malformed quoted value ${t}`, no);
    return t.slice(1, -1).replace(/''/g, "'");
  }
  if (t.startsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      throw new YamlSubsetError(`malformed double-quoted value ${t}`, no);
    }
  }
  if (/^[&*!|>@`%]/.test(t)) throw new YamlSubsetError(`${JSON.stringify(t[0])} (anchors, aliases, tags, block scalars) is not supported`, no);
  if (t === '' || t === '~' || t === 'null') return null;
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(t)) return Number(t);
  return t;
}

/** A flow collection or scalar that must fill `s` entirely. */
function inline(s: string, no: number): unknown {
  const t = s.trim();
  if (!t.startsWith('[') && !t.startsWith('{')) return scalar(t, no);
  let i = 0;
  const ws = (): void => {
    while (t[i] === ' ') i++;
  };
  const value = (): unknown => {
    ws();
    if (t[i] === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (t[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (t[i] === ',') i++;
        else if (t[i] === ']') {
          i++;
          return out;
        } else throw new YamlSubsetError(`expected ',' or ']' in ${t}`, no);
      }
    }
    if (t[i] === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (t[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        const m = /^([A-Za-z_][A-Za-z0-9_.-]*|'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")\s*:\s*/.exec(t.slice(i));
        if (!m) throw new YamlSubsetError(`expected a key in ${t}`, no);
        i += m[0].length;
        const key = unquoteKey(m[1]!, no);
        if (key in out) throw new YamlSubsetError(`duplicate key ${key}`, no);
        out[key] = value();
        ws();
        if (t[i] === ',') i++;
        else if (t[i] === '}') {
          i++;
          return out;
        } else throw new YamlSubsetError(`expected ',' or '}' in ${t}`, no);
      }
    }
    if (t[i] === "'" || t[i] === '"') {
      const q = t[i]!;
      let j = i + 1;
      for (; j < t.length; j++) {
        if (q === "'" && t[j] === "'" && t[j + 1] === "'") j++;
        else if (q === '"' && t[j] === '\\') j++;
        else if (t[j] === q) break;
      }
      const v = scalar(t.slice(i, j + 1), no);
      i = j + 1;
      return v;
    }
    let j = i;
    while (j < t.length && !',]}'.includes(t[j]!)) j++;
    const v = scalar(t.slice(i, j), no);
    i = j;
    return v;
  };
  const v = value();
  ws();
  if (i !== t.length) throw new YamlSubsetError(`unexpected text after the value: ${t.slice(i)}`, no);
  return v;
}

/** Parses the whole document. */
export function parseYamlSubset(text: string): unknown {
  const ls = lines(text);
  if (ls.length === 0) return null;
  let pos = 0;

  const node = (indent: number): unknown => {
    const l = ls[pos]!;
    if (l.indent !== indent) throw new YamlSubsetError('unexpected indentation', l.no);
    return isSeqItem(l.text) ? seq(indent) : map(indent);
  };

  /** The value of an entry whose text after ':' or '-' was empty: a nested block, or null. */
  const nested = (parentIndent: number, allowSameIndentSeq: boolean): unknown => {
    const next = ls[pos];
    if (next && (next.indent > parentIndent || (allowSameIndentSeq && next.indent === parentIndent && isSeqItem(next.text)))) return node(next.indent);
    return null;
  };

  const seq = (indent: number): unknown[] => {
    const out: unknown[] = [];
    while (pos < ls.length && ls[pos]!.indent === indent && isSeqItem(ls[pos]!.text)) {
      const l = ls[pos]!;
      const rest = l.text === '-' ? '' : l.text.slice(2).trimStart();
      if (rest === '') {
        pos++;
        out.push(nested(indent, false));
      } else if (KEY_RE.test(rest) && !rest.startsWith('{')) {
        // `- key: value` starts a mapping whose keys sit at the column after "- "
        const col = indent + (l.text.length - rest.length);
        (ls as Line[])[pos] = { indent: col, text: rest, no: l.no };
        out.push(map(col));
      } else {
        pos++;
        out.push(inline(rest, l.no));
      }
    }
    return out;
  };

  const map = (indent: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    while (pos < ls.length && ls[pos]!.indent === indent && !isSeqItem(ls[pos]!.text)) {
      const l = ls[pos]!;
      const m = KEY_RE.exec(l.text);
      if (!m) throw new YamlSubsetError(`expected "key: value", got ${JSON.stringify(l.text)}`, l.no);
      const key = unquoteKey(m[1]!, l.no);
      if (Object.hasOwn(out, key)) throw new YamlSubsetError(`duplicate key ${key}`, l.no);
      const rest = l.text.slice(m[0].length);
      pos++;
      out[key] = rest === '' ? nested(indent, true) : inline(rest, l.no);
    }
    return out;
  };

  const root = node(ls[0]!.indent);
  if (pos < ls.length) throw new YamlSubsetError('unexpected indentation', ls[pos]!.no);
  return root;
}
