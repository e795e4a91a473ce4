/**
 * A command's arguments checked before node's parseArgs reads them, so that
 * every mistake is told in one line of our words (parseArgs' own messages
 * span lines and speak of "positional arguments" and "ambiguous" values),
 * with the nearest option for a mistyped one.
 */
import { closest } from '../suggest';

export interface ArgSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder for messages, e.g. HOST. */
  readonly arg?: string;
}

/** What is wrong with `argv` for these options, or undefined when parseArgs will read it. */
export function argsProblem(specs: Readonly<Record<string, ArgSpec>>, argv: readonly string[]): string | undefined {
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);
  const names = Object.keys(specs);
  const unknown = (flag: string): string => {
    const near = flag.startsWith('--') ? closest(flag.slice(2), names) : undefined;
    return `unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}`;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = specs[name];
      if (!spec) return unknown(`--${name}`);
      if (spec.type === 'boolean') {
        if (eq >= 0) return `--${name} takes no value, got ${JSON.stringify(a.slice(eq + 1))}`;
      } else if (eq < 0) {
        const problem = valueProblem(`--${name}`, name, spec, argv[i + 1]);
        if (problem) return problem;
        i++;
      }
    } else if (a.startsWith('-') && a.length > 1) {
      // -x, -xVALUE, or boolean letters run together (-hv)
      for (let j = 1; j < a.length; j++) {
        const name = byShort.get(a[j]!);
        if (name === undefined) return unknown(`-${a[j]}`);
        const spec = specs[name]!;
        if (spec.type === 'boolean') continue;
        if (j === a.length - 1) {
          const problem = valueProblem(`-${a[j]}`, name, spec, argv[i + 1]);
          if (problem) return problem;
          i++;
        }
        break;
      }
    }
  }
  return undefined;
}

function valueProblem(flag: string, name: string, spec: ArgSpec, next: string | undefined): string | undefined {
  const what = spec.arg ?? 'VALUE';
  if (next === undefined) return `${flag} needs a value (${what})`;
  if (next.startsWith('-') && next !== '-')
    return `${flag} needs a value (${what}); ${next} reads as an option (a value that starts with "-" is written --${name}=${next})`;
  return undefined;
}
