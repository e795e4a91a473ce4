import { type RunningDemo, startDemo } from '../../demo/demo';
import { currentInvocation, sppInvocation } from '../../demo/invocation';
import { type CliCommand, str } from '../framework';
import { untilSignal } from '../signals';
import { startAgentWithUi } from './agent-ui';

export const demoCommand: CliCommand = {
  path: ['demo'],
  summary: 'run everything locally: etcd, the spp-ctl emulator, the agent, two bound ports',
  description: [
    'Starts a real etcd on a free loopback port with a temp data dir, the spp-ctl',
    'emulator (its vfs and one spp_mirror for TaaS), sets up the host (final format,',
    'with one mirror), starts the agent (with the visualizer and the ops',
    'endpoint; a taken address is refused up front with what to do), binds one',
    'flat and one VLAN port as neutron would, prints the status, and keeps running',
    'until Ctrl-C, then stops everything it started. Needs the `etcd` binary',
    '(Debian package etcd-server; `npm run demo` installs it when missing).',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', default: 'demo', help: 'host name (default demo)' },
    mappings: {
      type: 'string',
      arg: 'MAPPINGS',
      default: '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02',
      help: "DPDK_PORT_MAPPINGS of the demo host (default: the seed's two NICs)",
    },
    ui: { type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:7780', help: 'visualizer address, or "off" (default 127.0.0.1:7780)' },
    ops: {
      type: 'string',
      arg: 'HOST:PORT',
      default: '127.0.0.1:9180',
      help: 'ops endpoint address (/readyz, /livez, /metrics, /view), or "off" (default 127.0.0.1:9180)',
    },
  },
  async run(values, _positionals, io) {
    const ui = str(values, 'ui', true);
    const ops = str(values, 'ops', true);
    // listen before starting anything: a Ctrl-C during start-up must still stop what started
    const interrupted = untilSignal();
    let demo: RunningDemo;
    try {
      demo = await startDemo({
        host: str(values, 'host', true),
        mappings: str(values, 'mappings', true),
        ...(ui !== 'off' ? { ui } : {}),
        ...(ops !== 'off' ? { ops } : {}),
        spp: sppInvocation(currentInvocation()),
        out: io.out,
        startAgent: startAgentWithUi,
      });
    } catch (err) {
      // what went wrong in the user's terminal, in one message (a taken port, etcd missing), not a stack
      io.err(`spp demo: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    await interrupted;
    io.out('stopping...\n');
    await demo.stop();
    io.out('stopped.\n');
    setTimeout(() => process.exit(0), 200).unref();
    return 0;
  },
};
