/**
 * The agent with its visualizer (settings.ui): the composition root of
 * `spp agent`, which `spp demo` is given (the demo sits below the CLI) and
 * the system tests start. Neither side knows the other: the daemon knows
 * nothing of the page, and the page serves the live view this module makes
 * of the controller's view and the agent machine's state.
 */
import { merge, Observable } from 'rxjs';
import { stateName } from '../../../machines/state-name';
import { type AgentDeps, type AgentHandle, startAgent } from '../../daemon/daemon';
import type { AgentSettings } from '../../daemon/settings';
import { auxiliary, parseListen } from '../../listen';
import { startVizServer, type VizServer } from '../../viz/server';

export interface AgentUiHandle extends AgentHandle {
  /** The visualizer (settings.ui), once listening; undefined when off or when it could not listen. */
  readonly viz?: Promise<VizServer | undefined>;
}

export function startAgentWithUi(settings: AgentSettings, deps: AgentDeps): AgentUiHandle {
  let viz: Promise<VizServer | undefined> | undefined;
  const closeViz = async (): Promise<void> => void (await (await viz)?.close());
  const handle = startAgent(settings, {
    ...deps,
    ...(deps.onFatal ? { onFatal: (reason: string) => void closeViz().then(() => deps.onFatal?.(reason)) } : {}),
  });
  if (!settings.ui) return handle;
  const { controller, agent } = handle;
  const log = deps.logger.child({ host: settings.host });
  // the agent diagram changes with the agent machine's state, not with every context change
  const agentChanges = new Observable<void>((sub) => {
    let last = stateName(agent.getSnapshot().value);
    const s = agent.subscribe((snap) => {
      const state = stateName(snap.value);
      if (state !== last) sub.next();
      last = state;
    });
    return () => s.unsubscribe();
  });
  // readiness also changes without a view change (the host lock, etcd lost): the page hears of it within a second
  const readinessChanges = new Observable<void>((sub) => {
    let last = JSON.stringify(handle.readiness());
    const timer = setInterval(() => {
      const now = JSON.stringify(handle.readiness());
      if (now !== last) sub.next();
      last = now;
    }, 1000);
    timer.unref();
    return () => clearInterval(timer);
  });
  // a new etcd cause is news for the header's readiness line
  const causeChanges = new Observable<void>((sub) => handle.health.onChange(() => sub.next()));
  // The page is auxiliary: if it cannot listen the agent logs why and keeps working.
  viz = auxiliary(
    startVizServer({
      listen: parseListen(settings.ui),
      ...(settings.allowHosts ? { allowHosts: settings.allowHosts } : {}),
      source: {
        kind: 'live',
        view: () => controller.view(),
        changes: merge(controller.changes, agentChanges, readinessChanges, causeChanges),
        agentState: () => stateName(agent.getSnapshot().value),
        readiness: () => handle.readiness(),
        keys: () => ({ revision: controller.store.revision, entries: [...controller.store.entries()] }),
      },
    }),
    log,
    'visualizer',
    '(read-only)',
    { ui: settings.ui },
  );
  return {
    ...handle,
    viz,
    stop: async () => {
      await closeViz();
      await handle.stop();
    },
  };
}
