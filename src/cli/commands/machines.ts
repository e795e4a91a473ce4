/**
 * `spp machines export`: the agent's state machines as Mermaid, Graphviz dot
 * or JSON, extracted from the definitions the agent runs, for docs.
 */
import { writeFile } from 'node:fs/promises';
import { formatGraph, GRAPH_FORMATS } from '../../viz/graph-format';
import { agentMachineGraphs, MACHINE_NAMES } from '../../viz/machine-graph';
import { type CliCommand, choice, str, UsageError } from '../framework';

export const machinesExport: CliCommand = {
  path: ['machines', 'export'],
  summary: "print the agent's state machines (port, nic, agent) as mermaid, dot or json",
  description: [
    "States and transitions (events, guards, targets, delays, invoked actors' done/error,",
    '`always`) are read from the XState definitions in machines/, so the output always',
    'matches what the agent runs. Transitions that change no state (actions only) appear',
    'as comments in mermaid and dot.',
    '',
    'With --machine all: json is one object keyed by machine; dot is one digraph per',
    'machine (graphviz renders each); mermaid is one diagram per machine, separated by a',
    '`%% machine NAME` line (split them to render).',
    '',
    'Examples:',
    '  spp machines export --format mermaid --machine port',
    '  spp machines export --format dot --machine nic | dot -Tsvg > nic.svg',
    '  spp machines export -o json --out machines.json',
    '',
    'The file is --out FILE, as in `spp report`; -o/--output is the format, as everywhere.',
    'An --output that names no format is still taken as the file (its former meaning).',
  ].join('\n'),
  options: {
    format: { type: 'string', arg: GRAPH_FORMATS.join('|'), default: 'mermaid', help: 'output format (default mermaid)' },
    machine: { type: 'string', arg: [...MACHINE_NAMES, 'all'].join('|'), default: 'all', help: 'which machine (default all)' },
    out: { type: 'string', arg: 'FILE', help: 'write to FILE instead of stdout' },
    output: { type: 'string', short: 'o', arg: 'FORMAT', help: 'the same as --format (a value that is no format: the same as --out)' },
  },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const alias = str(values, 'output');
    const aliasIsFormat = alias !== undefined && (GRAPH_FORMATS as readonly string[]).includes(alias);
    const format = aliasIsFormat ? (alias as (typeof GRAPH_FORMATS)[number]) : choice(values, 'format', GRAPH_FORMATS);
    const output = str(values, 'out') ?? (aliasIsFormat ? undefined : alias);
    const which = choice(values, 'machine', [...MACHINE_NAMES, 'all'] as const);
    const graphs = agentMachineGraphs();
    const names = which === 'all' ? MACHINE_NAMES : [which];
    let text: string;
    if (format === 'json') {
      text = `${JSON.stringify(which === 'all' ? graphs : graphs[which], null, 2)}\n`;
    } else {
      text = names.map((n) => (names.length > 1 && format === 'mermaid' ? `%% machine ${n}\n` : '') + formatGraph(graphs[n], format)).join('\n');
    }
    if (!output) {
      io.out(text);
      return 0;
    }
    try {
      await writeFile(output, text);
    } catch (err) {
      io.err(`spp machines export: cannot write --out ${output}: ${(err as Error).message}\n`);
      return 1;
    }
    return 0;
  },
};
