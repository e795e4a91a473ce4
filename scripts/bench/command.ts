/** The bench's command line and how many runs of each figure a full and a --quick run take. */
import type { CliCommand } from '../../src/cli/framework';
import type { VlanBenchCounts } from './vlan-reuse';

export const command: CliCommand = {
  path: ['bench'],
  summary: 'measure plug/unplug latency, burst, restart recovery, memory and replay against a real etcd and the spp-ctl emulator',
  description: [
    'The agent runs as a child process (node bin/spp.js agent), so its CPU and memory are its own.',
    'Output: a table, then `BENCH {json}` lines (one per figure), then `GOAL pass|fail` lines.',
    'A full run takes about 9 minutes on 2 cores; --quick about 3 minutes (25 s of it the 63-host multi-agent scenario, 25 s the fan-out over 1, 16 and 64 hosts, about 75 s the VLAN cases at real pacing). See docs/performance.md.',
  ].join('\n'),
  options: {
    quick: { type: 'boolean', help: 'few runs of everything (about 3 minutes)' },
    profile: {
      type: 'boolean',
      help: 'also run a separate agent under node --cpu-prof over 40 bursts; print its top functions and layers by time, keep the .cpuprofile',
    },
    'burst-nics': { type: 'string', arg: 'N', help: 'NICs of the burst/restart host (default 4)' },
    'burst-vhosts': {
      type: 'string',
      arg: 'N',
      help: 'vhosts per NIC of the burst/restart host (default 4: 16 vhosts is the most a host can have, see docs/performance.md)',
    },
    'scale-hosts': {
      type: 'string',
      arg: 'N',
      help: 'hosts of 4 NICs x 4 vhosts served by one multi-agent process (default 63: 1,008 ports; 0 skips the scenario)',
    },
    'scale-watch': {
      type: 'string',
      arg: 'shared|own',
      default: 'shared',
      help: "the multi-agent's list-watch: one shared by every host (default), or one per host as the daemon has",
    },
    'fanout-hosts': {
      type: 'string',
      arg: 'N,N,...',
      help: 'cloud sizes of the watch fan-out figure, each host with its own agent and etcd client (default 1,16,64; 0 skips)',
    },
    'replay-keys': { type: 'string', arg: 'N', help: 'keys of the generated replay snapshot (default 100000)' },
    'replay-snapshot': { type: 'string', arg: 'FILE', help: 'replay this etcdctl text snapshot instead of generating one' },
    'history-revisions': { type: 'string', arg: 'N', help: 'revisions of the one-host etcd history replayed (default 10000)' },
  },
  run: async () => 0,
};

export interface Counts {
  floor: number;
  floorSlow: number;
  plug: number;
  vlan: number;
  plugSlow: number;
  vlanSlow: number;
  burst: number;
  burstSlow: number;
  restart: number;
  processStart: number;
  vlanReuse: VlanBenchCounts;
  fanoutBinds: number;
  /** Binds whose etcd writes are counted (each waits out the re-assert schedule). */
  bindWrites: number;
}

export const FULL: Counts = {
  floor: 200,
  floorSlow: 30,
  plug: 100,
  vlan: 50,
  plugSlow: 25,
  vlanSlow: 5,
  burst: 10,
  burstSlow: 3,
  restart: 20,
  processStart: 10,
  vlanReuse: { reuse: 20, reuseSlow: 5, burst: 5, burstSlow: 2, resetSlow: 2 },
  fanoutBinds: 12,
  bindWrites: 20,
};
export const QUICK: Counts = {
  floor: 30,
  floorSlow: 3,
  plug: 10,
  vlan: 5,
  plugSlow: 3,
  vlanSlow: 1,
  burst: 3,
  burstSlow: 1,
  restart: 3,
  processStart: 3,
  vlanReuse: { reuse: 3, reuseSlow: 3, burst: 1, burstSlow: 1, resetSlow: 0 },
  fanoutBinds: 8,
  bindWrites: 5,
};
