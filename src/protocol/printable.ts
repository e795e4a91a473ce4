/**
 * Text from etcd (key segments, values, error reasons quoting them) shown on
 * a terminal: anyone who can write a key must not be able to move the
 * cursor, recolour the screen or forge a log line with it. One helper, used
 * wherever such text is printed (pretty logs, `spp status`, `port list`,
 * `config show`, `explain`).
 */

/** C0 controls (newlines included), DEL and C1 controls: refused in key segments (keys.ts). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** What printable() escapes: the controls above, the Unicode line separators and the bidirectional overrides that reorder what a terminal shows. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One character as an escape sequence a reader can see: \n, \x1b, \u2028. */
export function escapeCharacter(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control or reordering character written as an escape; text without any is returned as is. */
export function printable(text: string): string {
  UNPRINTABLE.lastIndex = 0;
  return UNPRINTABLE.test(text) ? text.replace(UNPRINTABLE, escapeCharacter) : text;
}
