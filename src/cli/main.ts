import { CliCommand, Io, UsageError, commandHelp, findCommand, parseCommandArgs, topHelp } from './framework';
import { simCommand } from './commands/sim';

/** Every command of the `spp` binary. Add a command: one import, one entry. */
const commands: CliCommand[] = [simCommand];

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    io.out(`${require('../../../package.json').version}\n`);
    return 0;
  }
  const found = findCommand(commands, argv);
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
