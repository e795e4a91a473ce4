/**
 * A small command framework over node:util parseArgs: every command declares
 * its options once, and gets `--help` and clear usage errors from them.
 */
import { parseArgs } from 'node:util';
import { parseAllowHosts } from '../http-guard';
import { hostProblem } from '../protocol/keys';
import { closest } from '../suggest';
import { argsProblem } from './args';

export type OptionSpec = {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** One line for --help; include the env variable if there is one. */
  readonly help: string;
  /** Placeholder shown in --help, e.g. HOST. */
  readonly arg?: string;
};

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  /** Words that select the command, e.g. ['config', 'build']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Extra paragraphs for --help (examples, exit codes). */
  readonly description?: string;
  /** Positional arguments, for --help. */
  readonly positionals?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  run(values: Values, positionals: string[], io: Io): Promise<number>;
}

/** Raised for wrong usage: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {}

/** A --host value checked as every host name of a key is (protocol/keys.ts): a usage error now rather than a failure later. */
export function checkHost<T extends string | undefined>(host: T): T {
  const problem = host === undefined ? undefined : hostProblem(host);
  if (problem) throw new UsageError(`--host: ${problem}`);
  return host;
}

/** Options every command takes. */
export const globalOptions: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const formatOption: Record<string, OptionSpec> = {
  format: { type: 'string', arg: 'text|json', default: 'text', help: 'output format (default text)' },
};

/** --format for a command whose output scripts read (port bind: neutron's vif details). */
export const jsonFormatOption: Record<string, OptionSpec> = {
  format: { type: 'string', arg: 'text|json', default: 'json', help: 'output format (default json)' },
};

/** `-o json` / `--output json`, as kubectl users type it: the same as --format, on every command that has --format. */
const outputAlias: OptionSpec = { type: 'string', short: 'o', arg: 'FORMAT', help: 'the same as --format' };

/** Every option of a command: its own, the -o/--output alias of its --format, and the global ones. */
export function allOptions(cmd: Pick<CliCommand, 'options'>): Record<string, OptionSpec> {
  const alias: Record<string, OptionSpec> = cmd.options.format && !cmd.options.output ? { output: outputAlias } : {};
  return { ...cmd.options, ...alias, ...globalOptions };
}

/**
 * The exit status of every command, said once (`spp --help`); each
 * command's --help says what its 0 and 1 mean.
 */
export const EXIT_STATUS = [
  'exit status, every command:',
  '  0  done: written, shown, found, up (daemons: stopped by SIGTERM/SIGINT)',
  '  1  the thing asked about is not there or not right (an unknown host, a port not up,',
  '     a broken invariant, a refused change), or etcd/spp-ctl failed',
  '  2  usage: an unknown command or option, a missing or malformed value (bad mappings,',
  '     host names, addresses, ports, files), a setting that cannot work',
].join('\n');

export function commandHelp(cmd: CliCommand): string {
  const all = allOptions(cmd);
  const rows = Object.entries(all).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(34)} ${spec.help}`;
  });
  return [
    `usage: spp ${cmd.path.join(' ')} [options]${cmd.positionals ? ` ${cmd.positionals}` : ''}`,
    '',
    cmd.summary,
    ...(cmd.description ? ['', cmd.description.trimEnd()] : []),
    '',
    'options:',
    ...rows,
    '',
  ].join('\n');
}

export function topHelp(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length)) + 2;
  return [
    'usage: spp <command> [options]',
    '',
    "networking-spp: the etcd protocol between neutron's SPP mechanism driver and",
    'the compute-node agent that drives spp-ctl, with tools around it.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)} ${c.summary}`),
    '',
    'Run `spp <command> --help` for the options of a command, `spp --version` (or -v) for the',
    'version, `spp completion bash|zsh` for shell completion. Commands that print data take',
    '--format text|json (or -o json).',
    '',
    EXIT_STATUS,
    '',
  ].join('\n');
}

/** Finds the command whose path is the longest prefix of argv. */
export function findCommand(commands: readonly CliCommand[], argv: readonly string[]): { cmd: CliCommand; rest: string[] } | undefined {
  let best: CliCommand | undefined;
  for (const c of commands) {
    if (c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { cmd: best, rest: argv.slice(best.path.length) } : undefined;
}

export function parseCommandArgs(cmd: Pick<CliCommand, 'options'>, argv: string[]): { values: Values; positionals: string[] } {
  const specs = allOptions(cmd);
  const problem = argsProblem(specs, argv);
  if (problem) throw new UsageError(problem);
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: options as never, allowPositionals: true, strict: true }) as typeof parsed;
  } catch {
    // argsProblem knows every case parseArgs refuses; should one slip through, still no parser text
    throw new UsageError(`cannot read the arguments ${JSON.stringify(argv.join(' '))}`);
  }
  const values: Values = { ...parsed.values };
  if (specs.output === outputAlias && values.output !== undefined) {
    if (values.format !== undefined && values.format !== values.output) {
      throw new UsageError(`--format ${String(values.format)} and --output ${String(values.output)} disagree: give one`);
    }
    values.format = values.output;
    delete values.output;
  }
  // defaults after the alias, so that an explicit --output is told from a default --format
  for (const [name, spec] of Object.entries(specs)) if (values[name] === undefined && spec.default !== undefined) values[name] = spec.default;
  return { values, positionals: parsed.positionals };
}

/** Reads a string option, or throws a usage error if it is required and absent. */
export function str(values: Values, name: string, required: true): string;
export function str(values: Values, name: string, required?: false): string | undefined;
export function str(values: Values, name: string, required = false): string | undefined {
  const v = values[name];
  if (typeof v === 'string' && v !== '') return v;
  if (required) throw new UsageError(`--${name} is required`);
  return undefined;
}

export function choice<T extends string>(values: Values, name: string, allowed: readonly T[]): T {
  const v = values[name];
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  const near = typeof v === 'string' ? closest(v, allowed) : undefined;
  throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}${near ? ` (did you mean ${near}?)` : ''}`);
}

export function int(values: Values, name: string, fallback: number, min = 0): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function num(values: Values, name: string, fallback: number, min = 0): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** --allow-host of the commands that serve HTTP (`spp viz`, `spp sim`); the agent's has env and ini forms too. */
export const allowHostOption: Record<string, OptionSpec> = {
  'allow-host': {
    type: 'string',
    multiple: true,
    arg: 'NAME',
    help: 'a host name (or address) the server also answers to besides its address and localhost, e.g. its DNS name (repeatable; others get 421)',
  },
};

/** The --allow-host values, each checked. */
export function allowHostsOf(values: Values): string[] {
  const raw = values['allow-host'];
  const names = Array.isArray(raw) ? raw.map(String) : [];
  try {
    return names.flatMap((n) => parseAllowHosts(n, '--allow-host'));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
