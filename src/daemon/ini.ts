/**
 * The neutron-style ini file the original agent reads (oslo.config syntax,
 * the subset it uses): [section], `key = value`, `#`/`;` comments.
 */
export type Ini = Record<string, Record<string, string>>;

export function parseIni(text: string, source = 'config file'): Ini {
  const out: Ini = {};
  let section = 'DEFAULT';
  text.split(/\r?\n/).forEach((line, i) => {
    const s = line.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(s);
    if (header) {
      section = header[1]!.trim();
      out[section] ??= {};
      return;
    }
    const eq = s.search(/[=:]/);
    if (eq <= 0) throw new Error(`${source}:${i + 1}: expected "key = value" or "[section]", got ${JSON.stringify(s)}`);
    out[section] ??= {};
    out[section][s.slice(0, eq).trim()] = s.slice(eq + 1).trim();
  });
  return out;
}
