/**
 * A small command framework over node:util parseArgs: every command declares
 * its options once, and gets `--help` and clear usage errors from them.
 */
import { parseArgs } from 'node:util';
import { parseAllowHosts } from '../http-guard';
import { hostProblem } from '../protocol/keys';

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

export function commandHelp(cmd: CliCommand): string {
  const all = { ...cmd.options, ...globalOptions };
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
    'Run `spp <command> --help` for the options of a command, `spp --version` for the version.',
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

export function parseCommandArgs(cmd: CliCommand, argv: string[]): { values: Values; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries({ ...cmd.options, ...globalOptions }).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.short ? { short: spec.short } : {}),
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
      },
    ]),
  );
  try {
    const parsed = parseArgs({ args: argv, options: options as never, allowPositionals: true, strict: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
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
  throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
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
