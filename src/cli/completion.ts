/**
 * Shell completion scripts generated from the command table: the command
 * words, each command's options, and the values of options that name their
 * choices (`text|json`). Pure: commands in, script text out.
 */
import { allOptions, type CliCommand } from './framework';

const quote = (words: readonly string[]): string => words.join(' ');

/** A bash completion function for `spp`; zsh runs the same one through bashcompinit. */
export function bashCompletion(commands: readonly CliCommand[]): string {
  const firsts = [...new Set(commands.map((c) => c.path[0]!))];
  const groups = new Map<string, string[]>();
  for (const c of commands) if (c.path.length > 1) groups.set(c.path[0]!, [...(groups.get(c.path[0]!) ?? []), c.path[1]!]);
  const optionCases = commands.map((c) => {
    const options = allOptions(c);
    // the values of options that name them (text|json); -o/--output takes those of --format
    const valueCases = Object.entries(options).flatMap(([name, spec]) => {
      const arg = name === 'output' && !spec.arg?.includes('|') ? options.format?.arg : spec.arg;
      if (spec.type !== 'string' || !arg?.includes('|')) return [];
      const flags = [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])].join('|');
      return [`${flags}) vals="${quote(arg.split('|'))}" ;;`];
    });
    // one-word commands match "status <anything>", two-word ones "config build"
    const pattern = c.path.length === 1 ? `${c.path[0]}\\ *` : `"${c.path.join(' ')}"`;
    const values = valueCases.length > 0 ? ` case "$prev" in ${valueCases.join(' ')} esac;` : '';
    return `    ${pattern}) opts="${quote(Object.keys(options).map((o) => `--${o}`))}";${values} ;;`;
  });
  return [
    '# bash completion for spp, from `spp completion bash`: source it, or save it as',
    '# /etc/bash_completion.d/spp',
    '_spp() {',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a JavaScript template
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  if [[ $COMP_CWORD -eq 1 ]]; then',
    `    COMPREPLY=($(compgen -W "${quote([...firsts, '--help', '--version'])}" -- "$cur"))`,
    '    return',
    '  fi',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a JavaScript template
    '  case "${COMP_WORDS[1]}" in',
    ...[...groups].map(([g, subs]) => `    ${g}) if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=($(compgen -W "${quote(subs)}" -- "$cur")); return; fi ;;`),
    '  esac',
    '  local opts="" vals=""',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a JavaScript template
    '  case "${COMP_WORDS[1]} ${COMP_WORDS[2]}" in',
    ...optionCases,
    '  esac',
    '  if [[ -n "$vals" ]]; then',
    '    COMPREPLY=($(compgen -W "$vals" -- "$cur"))',
    '  elif [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
    '  else',
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    '  fi',
    '}',
    'complete -F _spp spp',
    '',
  ].join('\n');
}

/** The same for zsh, through its bash completion layer. */
export function zshCompletion(commands: readonly CliCommand[]): string {
  return [
    '# zsh completion for spp, from `spp completion zsh`: source it from ~/.zshrc',
    'autoload -U +X compinit && compinit',
    'autoload -U +X bashcompinit && bashcompinit',
    bashCompletion(commands).split('\n').slice(2).join('\n'),
  ].join('\n');
}
