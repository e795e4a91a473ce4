/** `spp completion bash|zsh`: a completion script from the command table, so it never lags behind the commands. */

import { closest } from '../../suggest';
import { bashCompletion, zshCompletion } from '../completion';
import { type CliCommand, UsageError } from '../framework';

const SHELLS = ['bash', 'zsh'] as const;

/** The command, over the table it completes (main.ts passes its own, which holds this command too). */
export function completionCommand(commands: () => readonly CliCommand[]): CliCommand {
  return {
    path: ['completion'],
    summary: 'print a shell completion script (bash or zsh) for spp',
    positionals: 'bash|zsh',
    description: [
      'Completes the commands, their options and the values of options with a fixed set',
      '(--format text|json, ...). Generated from the same table as `spp --help`.',
      '',
      'examples:',
      '  source <(spp completion bash)            # this shell',
      '  spp completion bash > /etc/bash_completion.d/spp',
      '  echo "source <(spp completion zsh)" >> ~/.zshrc',
    ].join('\n'),
    options: {},
    async run(_values, positionals, io) {
      const [shell, ...extra] = positionals;
      if (shell === undefined) throw new UsageError('which shell? bash or zsh');
      if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
      if (shell !== 'bash' && shell !== 'zsh') {
        const near = closest(shell, SHELLS);
        throw new UsageError(`unknown shell ${JSON.stringify(shell)}: bash or zsh${near ? ` (did you mean ${near}?)` : ''}`);
      }
      io.out(shell === 'bash' ? bashCompletion(commands()) : zshCompletion(commands()));
      return 0;
    },
  };
}
