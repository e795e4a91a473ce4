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
  ].join('\n'),
  options: {
    format: { type: 'string', arg: GRAPH_FORMATS.join('|'), default: 'mermaid', help: 'output format (default mermaid)' },
    machine: { type: 'string', arg: [...MACHINE_NAMES, 'all'].join('|'), default: 'all', help: 'which machine (default all)' },
    output: { type: 'string', arg: 'FILE', help: 'write to FILE instead of stdout' },
  },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const format = choice(values, 'format', GRAPH_FORMATS);
    const which = choice(values, 'machine', [...MACHINE_NAMES, 'all'] as const);
    const graphs = agentMachineGraphs();
    const names = which === 'all' ? MACHINE_NAMES : [which];
    let text: string;
    if (format === 'json') {
      text = `${JSON.stringify(which === 'all' ? graphs : graphs[which], null, 2)}\n`;
    } else {
      text = names.map((n) => (names.length > 1 && format === 'mermaid' ? `%% machine ${n}\n` : '') + formatGraph(graphs[n], format)).join('\n');
    }
    const output = str(values, 'output');
    if (!output) {
      io.out(text);
      return 0;
    }
    try {
      await writeFile(output, text);
    } catch (err) {
      io.err(`spp machines export: cannot write --output ${output}: ${(err as Error).message}\n`);
      return 1;
    }
    return 0;
  },
};
