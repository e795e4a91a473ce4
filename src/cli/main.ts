import { closest } from '../suggest';
import { VERSION } from '../version';
import { agentCommand } from './commands/agent';
import { completionCommand } from './commands/completion';
import { configBuild } from './commands/config-build';
import { configDestroy } from './commands/config-destroy';
import { configShow } from './commands/config-show';
import { demoCommand } from './commands/demo';
import { etcdRolesCommand } from './commands/etcd-roles';
import { explainCommand } from './commands/explain';
import { machinesExport } from './commands/machines';
import { portCommands } from './commands/port';
import { replayCommand } from './commands/replay';
import { reportCommand } from './commands/report';
import { simCommand } from './commands/sim';
import { status } from './commands/status';
import { systemdUnitCommand } from './commands/systemd-unit';
import { tapCommands } from './commands/tap';
import { vizCommand } from './commands/viz';
import { type CliCommand, commandHelp, findCommand, type Io, parseCommandArgs, topHelp, UsageError } from './framework';

/** Every command of the `spp` binary. Add a command: one import, one entry. */
const commands: CliCommand[] = [
  configBuild,
  configDestroy,
  configShow,
  status,
  explainCommand,
  reportCommand,
  ...portCommands,
  ...tapCommands,
  etcdRolesCommand,
  agentCommand,
  systemdUnitCommand,
  simCommand,
  replayCommand,
  vizCommand,
  machinesExport,
  demoCommand,
  completionCommand(() => commands),
];

/** One line for a usage error: what is wrong, in our words, and where the usage is. */
function usageLine(where: string, message: string, help: string): string {
  return `${where}: ${message} (see \`${help}\`)\n`;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const found = findCommand(commands, argv);
  const group = commands.filter((c) => c.path.length > 1 && c.path[0] === argv[0]);
  if (!found && group.length > 0 && (argv[1] === undefined || argv[1].startsWith('-'))) {
    // `spp config` or `spp config --help`: list the group's commands
    const help = argv.includes('--help') || argv.includes('-h');
    (help ? io.out : io.err)(topHelp(group));
    return help ? 0 : 2;
  }
  if (!found) {
    io.err(usageLine('spp', unknownCommand(argv), 'spp --help'));
    return 2;
  }
  const { cmd, rest } = found;
  try {
    const { values, positionals } = parseCommandArgs(cmd, rest);
    if (values.help) {
      io.out(commandHelp(cmd));
      return 0;
    }
    return await cmd.run(values, positionals, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const name = `spp ${cmd.path.join(' ')}`;
      io.err(usageLine(name, err.message.split('\n')[0]!, `${name} --help`));
      return 2;
    }
    throw err;
  }
}

/** What the first words were meant to be: the nearest command path (two words, then one), or an option where a command belongs. */
function unknownCommand(argv: readonly string[]): string {
  if (argv[0]!.startsWith('-')) return `unknown option ${argv[0]} (a command comes first: spp <command> [options])`;
  const words = argv.slice(0, 2).filter((a) => !a.startsWith('-'));
  const paths = commands.map((c) => c.path.join(' '));
  const firsts = [...new Set(commands.map((c) => c.path[0]!))];
  const near =
    (words.length === 2
      ? closest(
          words.join(' '),
          paths.filter((p) => p.includes(' ')),
        )
      : undefined) ?? (firsts.includes(words[0]!) ? undefined : closest(words[0]!, firsts));
  const typed = words.length === 2 && (firsts.includes(words[0]!) || near?.includes(' ')) ? words.join(' ') : words[0]!;
  return `unknown command ${JSON.stringify(typed)}${near ? ` (did you mean "${near}"?)` : ''}`;
}

function defaultIo(): Io {
  return { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env: process.env };
}
