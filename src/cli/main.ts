import { VERSION } from '../version';
import { agentCommand } from './commands/agent';
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
];

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const found = findCommand(commands, argv);
  const words = argv.filter((a) => !a.startsWith('-'));
  const group = commands.filter((c) => c.path.length > 1 && c.path[0] === words[0]);
  if (!found && group.length > 0) {
    // `spp config` or `spp config --help`: list the group's commands
    const help = argv.includes('--help') || argv.includes('-h');
    (help ? io.out : io.err)(topHelp(group));
    return help ? 0 : 2;
  }
  if (!found) {
    io.err(`spp: unknown command ${JSON.stringify(argv.filter((a) => !a.startsWith('-')).join(' '))}\n\n${topHelp(commands)}`);
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
      io.err(`spp ${cmd.path.join(' ')}: ${err.message}\nRun \`spp ${cmd.path.join(' ')} --help\` for usage.\n`);
      return 2;
    }
    throw err;
  }
}

function defaultIo(): Io {
  return { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env: process.env };
}
