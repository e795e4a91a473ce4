/**
 * The compute-node daemon: wires etcd (list-watch, writes, liveness), the
 * spp-ctl client and the controller together, and stops promptly.
 */
import type { Observable, Subscription } from 'rxjs';
import type { Etcd3 } from 'etcd3';
import { Actor, createActor, fromCallback, fromPromise, waitFor } from 'xstate';
import { AgentEvent, agentMachine } from '../../machines/agent';
import { stateName } from '../../machines/state-name';
import { connectEtcd } from '../etcd/connect';
import { ListWatchEvent, listWatch, WatchRanges } from '../etcd/listwatch';
import type { Logger } from '../log';
import { keys, prefixes } from '../protocol/keys';
import { Controller } from './controller';
import { Etcd3Writer, testExitAfterWrites } from './etcd-writer';
import { LeaderLock, holderValue } from './leader';
import { Liveness } from './liveness';
import type { SppCtlApi } from './io';
import { Recorder } from './recorder';
import type { AgentSettings } from './settings';
import { VERSION } from '../version';

export const AGENT_VERSION: string = VERSION;

export interface AgentHandle {
  readonly controller: Controller;
  readonly agent: Actor<typeof agentMachine>;
  /** Stops taking work, finishes the command in flight, revokes the lease. */
  stop(): Promise<void>;
}

/**
 * The keys one host's agent lists and watches: its own and nothing else, so
 * that its etcd role can be limited to them. agent/<host> and
 * agent-lock/<host> are only written (and the lock read), never watched.
 */
export function hostRanges(host: string): WatchRanges {
  return {
    prefixes: [prefixes.vhostOfHost(host), prefixes.bindPortOfHost(host), prefixes.actionOfHost(host), prefixes.portStatusOfHost(host)],
    keys: [keys.configuration(host)],
  };
}

export interface AgentDeps {
  readonly logger: Logger;
  readonly sppctl: SppCtlApi;
  readonly recorder?: Recorder;
  /** The agent stopped itself (it lost its host lock to another agent); the process should exit non-zero. */
  readonly onFatal?: (reason: string) => void;
  /**
   * For scale tests that serve several hosts in one process
   * (scripts/bench/multi-agent.ts): an etcd client shared by the agents,
   * used instead of one of the agent's own, and left open by stop(). The
   * production daemon leaves it unset.
   */
  readonly client?: Etcd3;
  /**
   * Where the host's keys come from once the lock is held; default a
   * list-watch of the agent's own. Scale tests pass one shared list-watch
   * demultiplexed by host (src/etcd/shared-listwatch.ts).
   */
  readonly watch?: (ranges: WatchRanges) => Observable<ListWatchEvent>;
}

export function startAgent(settings: AgentSettings, deps: AgentDeps): AgentHandle {
  const { logger, sppctl, recorder } = deps;
  const log = logger.child({ host: settings.host });
  const client = deps.client ?? connectEtcd({ ...settings.etcd, callTimeoutMs: 5000 });
  const controller = new Controller({
    host: settings.host,
    sppctl,
    etcd: new Etcd3Writer(client, testExitAfterWrites(process.env), settings.etcd.username),
    logger,
    resyncIntervalMs: settings.resyncIntervalMs,
    portTimers: { reassertMs: settings.reassertMs, backoffBaseMs: 500, backoffMaxMs: 30_000 },
    unplugResetsVlan: settings.unplugResetsVlan,
  });
  const liveness = new Liveness(
    client,
    settings.host,
    settings.leaseTtlSec,
    { version: AGENT_VERSION, started_at: new Date().toISOString(), pid: process.pid },
    log,
  );
  log.info('agent starting', { version: AGENT_VERSION, etcd: settings.etcd.endpoints, sppCtl: settings.sppCtlUrl, pid: process.pid });
  recorder?.write({ kind: 'start', at: new Date().toISOString(), host: settings.host, version: AGENT_VERSION, unplugResetsVlan: settings.unplugResetsVlan });
  const configKey = keys.configuration(settings.host);
  let subscription: Subscription | undefined;
  let stopping = false;
  let onRefused: (reason: string) => void = () => {};
  const lock = new LeaderLock({
    client,
    host: settings.host,
    ttlSec: settings.leaseTtlSec,
    holder: holderValue(AGENT_VERSION, new Date().toISOString()),
    log,
    ...(settings.etcd.username ? { user: settings.etcd.username } : {}),
    onRefused: (reason) => onRefused(reason),
    onLost: (reason) => {
      log.error('agent lock lost: stopping', { reason });
      void handle.stop().then(() => deps.onFatal?.(reason));
    },
  });
  /** The session: the host lock, then the list-watch feeding the controller; what etcd says goes to the agent machine. */
  const session = (send: (event: AgentEvent) => void): void => {
    onRefused = (reason) => send({ type: 'ETCD_REFUSED', reason });
    // Nothing is listed, watched or sent to spp-ctl before this process holds
    // the host's lock: a second agent for the host stands by here.
    void lock.acquire().then((held) => {
      if (!held || stopping) return;
      liveness.start();
      const ranges = hostRanges(settings.host);
      const user = settings.etcd.username;
      subscription = (deps.watch ? deps.watch(ranges) : listWatch(client, ranges, user ? { user } : {})).subscribe((ev) => {
        recorder?.write({ kind: 'etcd', at: new Date().toISOString(), event: ev });
        controller.handle(ev);
        if (ev.type === 'connection' && ev.refused) {
          log.error('etcd refused the agent; not running until the grant or credentials are fixed (retrying with backoff)', { reason: ev.reason, user });
          send({ type: 'ETCD_REFUSED', reason: ev.reason });
        } else if (ev.type === 'connection') send(ev.connected ? { type: 'ETCD_UP' } : { type: 'ETCD_DOWN', reason: ev.reason });
        else if (ev.type === 'reset' || ev.key === configKey) send({ type: 'CONFIGURATION', state: controller.store.configuration().state });
      });
    });
  };
  /** Stops taking work, finishes the command in flight, revokes the lease, releases the lock. */
  let shutdown: Promise<void> | undefined;
  const shutDown = async (): Promise<void> => {
    stopping = true;
    subscription?.unsubscribe();
    await controller.stop();
    await liveness.stop();
    await lock.release();
    if (!deps.client) client.close();
    await recorder?.close();
  };
  const agent = createActor(
    agentMachine.provide({
      actors: {
        session: fromCallback<AgentEvent>(({ sendBack }) => session(sendBack)),
        shutdown: fromPromise(async () => (shutdown ??= shutDown())),
      },
    }),
    { input: { host: settings.host } },
  );
  let lastState = '';
  agent.subscribe((snap) => {
    const state = stateName(snap.value);
    if (state !== lastState) log.info('agent state', { state, from: lastState || undefined, reason: snap.context.reason });
    lastState = state;
  });
  let stopped: Promise<void> | undefined;
  const handle: AgentHandle = {
    controller,
    agent,
    stop: () =>
      (stopped ??= (async () => {
        agent.send({ type: 'STOP' });
        await waitFor(agent, (snap) => snap.status === 'done', { timeout: Infinity });
        agent.stop();
        await shutdown;
      })()),
  };
  agent.start();
  return handle;
}
