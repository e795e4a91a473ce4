/**
 * The compute-node daemon: wires etcd (list-watch, writes, liveness), the
 * spp-ctl client and the controller together, and stops promptly.
 */

import type { Etcd3 } from 'etcd3';
import { type Observable, Subject, type Subscription } from 'rxjs';
import { type Actor, createActor, fromCallback, fromPromise, waitFor } from 'xstate';
import { type AgentEvent, agentMachine, type RefusalSource } from '../../machines/agent';
import { stateName } from '../../machines/state-name';
import { Controller } from '../agent/controller';
import type { SppCtlApi } from '../agent/io';
import { connectEtcd } from '../etcd/connect';
import { causeText, EtcdHealth } from '../etcd/health';
import { type ListWatchEvent, type ListWatchNudge, listWatch, type WatchRanges } from '../etcd/listwatch';
import { auxiliary, parseListen } from '../listen';
import type { Logger } from '../log';
import { instrumentSppCtl, instrumentWriter } from '../ops/instrument';
import { AgentMetrics } from '../ops/metrics';
import { type Readiness, readiness } from '../ops/readiness';
import { type OpsServer, startOpsServer } from '../ops/server';
import { hostWatchRanges, keys } from '../protocol/keys';
import { VERSION } from '../version';
import { logEtcdCauses } from './etcd-cause-log';
import { EtcdWatchdog } from './etcd-watchdog';
import { Etcd3Writer, testExitAfterWrites } from './etcd-writer';
import { type GrantAction, grantProber, watchGrants } from './grant-probe';
import { holderValue, LeaderLock } from './leader';
import { Liveness } from './liveness';
import type { Recorder } from './recorder';
import type { AgentSettings } from './settings';

export const AGENT_VERSION: string = VERSION;
/** How often an agent with an etcd user checks its grants: "within a few seconds" of a change (issue 26). */
const GRANT_PROBE_MS = 2000;

export interface AgentHandle {
  readonly controller: Controller;
  readonly agent: Actor<typeof agentMachine>;
  /** The ops endpoint (settings.ops), once listening; undefined when off or when it could not listen. */
  readonly ops?: Promise<OpsServer | undefined>;
  /** The metrics (with settings.ops, or deps.metrics). */
  readonly metrics?: AgentMetrics;
  /** What /readyz answers. */
  readiness(): Readiness;
  /** What the agent's etcd client hears from etcd: the cause of trouble that /readyz and the page name. */
  readonly health: EtcdHealth;
  /** Why the etcd client is stuck (the watchdog fired; /livez fails), else undefined. */
  stuck(): string | undefined;
  /** Stops taking work, finishes the command in flight, revokes the lease. */
  stop(): Promise<void>;
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
  /** Metrics to keep even without an ops endpoint (the bench measures their cost); default: one set when settings.ops is given. */
  readonly metrics?: AgentMetrics;
}

export function startAgent(settings: AgentSettings, deps: AgentDeps): AgentHandle {
  const { logger, recorder } = deps;
  const log = logger.child({ host: settings.host });
  const health = new EtcdHealth(settings.etcd.endpoints);
  const client = deps.client ?? connectEtcd({ ...settings.etcd, callTimeoutMs: 5000 }, health);
  const stopCauseLog = logEtcdCauses(health, log);
  // What etcd refuses or accepts of the agent's own requests: the agent machine decides what state that makes.
  // (The machine is created below; the writer and the liveness key report only once the session runs.)
  const refused = (source: RefusalSource) => (reason: string) => agent.send({ type: 'ETCD_REFUSED', source, reason });
  const accepted = (source: RefusalSource) => () => agent.send({ type: 'ETCD_ACCEPTED', source });
  const metrics = deps.metrics ?? (settings.ops ? new AgentMetrics() : undefined);
  const writer = new Etcd3Writer(
    client,
    { ...testExitAfterWrites(process.env), onRefused: refused('write'), onAccepted: accepted('write') },
    settings.etcd.username,
  );
  const controller = new Controller({
    host: settings.host,
    sppctl: metrics ? instrumentSppCtl(deps.sppctl, metrics) : deps.sppctl,
    etcd: metrics ? instrumentWriter(writer, metrics) : writer,
    ...(metrics ? { observer: metrics, onNicState: (secId: number, state: string) => metrics.nicState(secId, state) } : {}),
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
    { refused: refused('liveness'), accepted: accepted('liveness') },
  );
  log.info('agent starting', { version: AGENT_VERSION, etcd: settings.etcd.endpoints, sppCtl: settings.sppCtlUrl, pid: process.pid });
  recorder?.write({ kind: 'start', at: new Date().toISOString(), host: settings.host, version: AGENT_VERSION, unplugResetsVlan: settings.unplugResetsVlan });
  const configKey = keys.configuration(settings.host);
  let subscription: Subscription | undefined;
  let stopping = false;
  let listed = false;
  const lock = new LeaderLock({
    client,
    host: settings.host,
    ttlSec: settings.leaseTtlSec,
    holder: holderValue(AGENT_VERSION, new Date().toISOString()),
    log,
    ...(settings.etcd.username ? { user: settings.etcd.username } : {}),
    onRefused: refused('lock'),
    onLost: (reason) => {
      log.error('agent lock lost: stopping', { reason });
      void handle.stop().then(() => deps.onFatal?.(reason));
    },
  });
  const watchdog =
    settings.etcdWatchdogMs === undefined
      ? undefined
      : new EtcdWatchdog({
          boundMs: settings.etcdWatchdogMs,
          probe: () => client.get(keys.agentLock(settings.host)).exec(),
          probeFresh: async () => {
            const fresh = connectEtcd({ ...settings.etcd, callTimeoutMs: 5000 });
            try {
              return await fresh.get(keys.agentLock(settings.host)).exec();
            } finally {
              fresh.close();
            }
          },
          log,
          onStuck: (reason) => void handle.stop().then(() => deps.onFatal?.(reason)),
        });
  // With auth on, etcd can refuse or give back a grant at any time: probe every few seconds (src/daemon/grant-probe.ts).
  const nudges = new Subject<ListWatchNudge>();
  const onGrant = (a: GrantAction): void => {
    if (a.type === 'refuse') {
      if (a.source === 'watch') nudges.next({ type: 'refused', reason: a.reason });
      else {
        log.error('etcd refuses the agent a grant it had', { source: a.source, reason: a.reason, user: settings.etcd.username });
        agent.send({ type: 'ETCD_REFUSED', source: a.source, reason: a.reason });
      }
      return;
    }
    log.info('etcd grants the agent again what it refused', { source: a.source });
    if (a.source === 'watch') nudges.next({ type: 'retry' });
    else if (a.source === 'lock') lock.retryNow();
    else {
      liveness.retryNow();
      agent.send({ type: 'ETCD_ACCEPTED', source: a.source });
    }
  };
  const stopGrantWatch =
    settings.etcd.username === undefined || deps.watch
      ? () => undefined
      : watchGrants({
          intervalMs: GRANT_PROBE_MS,
          probe: grantProber(client, settings.host, hostWatchRanges(settings.host), settings.etcd.username),
          refusedNow: () => agent.getSnapshot().context.refused,
          lockHeld: () => lock.held,
          act: onGrant,
        });
  /** The session: the host lock, then the list-watch feeding the controller; what etcd says goes to the agent machine. */
  const session = (send: (event: AgentEvent) => void): void => {
    // Nothing is listed, watched or sent to spp-ctl before this process holds
    // the host's lock: a second agent for the host stands by here.
    void lock.acquire().then((held) => {
      if (!held || stopping) return;
      liveness.start();
      const ranges = hostWatchRanges(settings.host);
      const user = settings.etcd.username;
      subscription = (deps.watch ? deps.watch(ranges) : listWatch(client, ranges, { ...(user ? { user } : {}), nudges })).subscribe((ev) => {
        recorder?.write({ kind: 'etcd', at: new Date().toISOString(), event: ev });
        metrics?.listWatchEvent(ev);
        if (ev.type === 'reset') listed = true;
        controller.handle(ev);
        if (ev.type === 'connection' && ev.refused) {
          log.error('etcd refused the agent; not running until the grant or credentials are fixed (retrying with backoff)', { reason: ev.reason, user });
          send({ type: 'ETCD_REFUSED', source: 'watch', reason: ev.reason });
        } else if (ev.type === 'connection') send(ev.connected ? { type: 'ETCD_UP' } : { type: 'ETCD_DOWN', reason: ev.reason });
        else if (ev.type === 'reset' || ev.key === configKey) send({ type: 'CONFIGURATION', state: controller.store.configuration().state });
      });
    });
  };
  /** Stops taking work, finishes the command in flight, revokes the lease, releases the lock. */
  let shutdown: Promise<void> | undefined;
  const shutDown = async (): Promise<void> => {
    stopping = true;
    watchdog?.stop();
    stopCauseLog();
    stopGrantWatch();
    subscription?.unsubscribe();
    await controller.stop();
    await liveness.stop();
    await lock.release();
    if (!deps.client) client.close();
    await recorder?.close();
    await (await ops)?.close();
  };
  const agent = createActor(
    agentMachine.provide({
      actors: {
        session: fromCallback<AgentEvent>(({ sendBack }) => session(sendBack)),
        shutdown: fromPromise(async () => {
          shutdown ??= shutDown();
          await shutdown;
        }),
      },
    }),
    { input: { host: settings.host } },
  );
  let lastState = '';
  let lastRefused: string | undefined;
  agent.subscribe((snap) => {
    const state = stateName(snap.value);
    if (state !== lastState) log.info('agent state', { state, from: lastState || undefined, reason: snap.context.reason });
    lastState = state;
    // the liveness value tells `spp status` that etcd refuses this agent, and why
    const refused = state === 'refused' ? (snap.context.reason ?? 'etcd refused the agent') : undefined;
    if (refused !== lastRefused) liveness.setRefused(refused);
    lastRefused = refused;
  });
  const ready = (): Readiness => {
    const snap = agent.getSnapshot();
    const view = controller.view();
    return readiness({
      host: settings.host,
      stopping,
      lockHeld: lock.held,
      standingBy: lock.standingBy,
      agentState: stateName(snap.value),
      ...(snap.context.reason ? { agentReason: snap.context.reason } : {}),
      ...(health.cause ? { etcdCause: causeText(health.cause) } : {}),
      listed,
      nics: view.nics,
      configuration: view.configuration,
      configurationErrors: view.configurationErrors,
    });
  };
  metrics?.bind({ host: settings.host, ready: () => ready().ready, lockHeld: () => lock.held, livenessHeld: () => liveness.held });
  // Auxiliary like the page: if it cannot listen the agent logs why and keeps working.
  const ops =
    settings.ops && metrics
      ? auxiliary(
          startOpsServer(
            parseListen(settings.ops, '--ops'),
            {
              metrics: () => metrics.text(),
              contentType: metrics.registry.contentType,
              readiness: ready,
              stopping: () => stopping,
              stuck: () => watchdog?.stuck,
              view: () => {
                const snap = agent.getSnapshot();
                return {
                  host: settings.host,
                  version: AGENT_VERSION,
                  agentState: stateName(snap.value),
                  reason: snap.context.reason,
                  lockHeld: lock.held,
                  readiness: ready(),
                  view: controller.view(),
                };
              },
            },
            { ...(settings.allowHosts ? { allowHosts: settings.allowHosts } : {}) },
          ),
          log,
          'ops endpoint',
          '(/metrics, /livez, /readyz, /view)',
          { ops: settings.ops },
        )
      : undefined;
  let stopped: Promise<void> | undefined;
  const handle: AgentHandle = {
    controller,
    agent,
    ...(ops ? { ops } : {}),
    ...(metrics ? { metrics } : {}),
    readiness: ready,
    health,
    stuck: () => watchdog?.stuck,
    stop: () => {
      stopped ??= (async () => {
        agent.send({ type: 'STOP' });
        await waitFor(agent, (snap) => snap.status === 'done', { timeout: Infinity });
        agent.stop();
        await shutdown;
      })();
      return stopped;
    },
  };
  agent.start();
  watchdog?.start();
  return handle;
}
