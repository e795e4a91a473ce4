/**
 * Everything the page shows of one host, computed on the server so that the
 * page words nothing itself: the controller's view with the comparison of
 * every port, the ports list rows and one drawing per spp_vf. Pure.
 */
import type { ControllerView } from '../agent/view';
import type { StoredValue } from '../etcd/events';
import { explainPorts } from '../explain/explain';
import { familyText } from '../explain/release';
import { explainTaps } from '../explain/tap-explain';
import { type PageView, pageView } from './compare';
import { drawMirror, type MirrorDrawing } from './mirror-drawing';
import { type PortRow, portRows, viewTime } from './port-rows';
import { type TapRow, tapRows } from './tap-rows';
import { drawVf, type VfDrawing } from './vf-drawing';

export interface HostPage extends PageView {
  /** The time ages are measured against (wall clock live, the frame's last step in a replay). */
  readonly now: number;
  readonly rows: readonly PortRow[];
  readonly drawings: readonly (VfDrawing & { readonly release?: ReleaseLabel })[];
  /** Tap flows (TaaS): failed first, then those not converged, then by flow id. */
  readonly tapRows: readonly TapRow[];
  /** The host's spp_mirror with its components and the rings it redirects; absent when none is configured. */
  readonly mirrorDrawing?: MirrorDrawing;
}

/** The SPP release the agent believes runs a vf, for the drawing's heading: the family in words, and why. */
export interface ReleaseLabel {
  readonly text: string;
  readonly reason: string;
}

/** The host's keys as the agent's cache holds them, for the explanations. */
export interface HostKeys {
  readonly revision: number;
  readonly entries: ReadonlyArray<[string, StoredValue]>;
}

export function hostPage(view: ControllerView, now: number = viewTime(view), keys?: HostKeys, agentState?: string): HostPage {
  const page = pageView(view);
  let rows = portRows(view, page.compare, now);
  let taps = tapRows(view);
  if (keys) {
    // the agent itself serves the page, so its liveness is not in question
    const input = {
      host: view.host,
      revision: keys.revision,
      entries: keys.entries,
      liveness: 'unknown' as const,
      agent: { ...(agentState ? { agentState } : {}), ports: view.ports, nics: view.nics },
    };
    const explained = new Map(
      explainPorts(
        input,
        rows.map((r) => r.portId),
      ).map((e) => [e.portId, e]),
    );
    rows = rows.map((r) => ({ ...r, explanation: explained.get(r.portId)! }));
    const tapInput = { ...input, agent: { ...input.agent, ...(view.taps ? { taps: view.taps } : {}), ...(view.mirror ? { mirror: view.mirror } : {}) } };
    const tapExplained = explainTaps(
      tapInput,
      taps.map((r) => r.flowId),
    );
    taps = taps.map((r, i) => ({ ...r, explanation: tapExplained[i]! }));
  }
  const drawings = view.nics.map((n) => ({
    ...drawVf(n, rows, page.compare, view.vhosts, view.taps ?? []),
    ...(n.release ? { release: { text: familyText(n.release), reason: n.release.reason } } : {}),
  }));
  return { ...page, now, rows, drawings, tapRows: taps, ...(view.mirror ? { mirrorDrawing: drawMirror(view.mirror, view.taps ?? []) } : {}) };
}
