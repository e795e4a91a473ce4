/**
 * Everything the page shows of one host, computed on the server so that the
 * page words nothing itself: the controller's view with the comparison of
 * every port, the ports list rows and one drawing per spp_vf. Pure.
 */
import type { ControllerView } from '../agent/view';
import { PageView, pageView } from './compare';
import { PortRow, portRows, viewTime } from './port-rows';
import { VfDrawing, drawVf } from './vf-drawing';

export interface HostPage extends PageView {
  /** The time ages are measured against (wall clock live, the frame's last step in a replay). */
  readonly now: number;
  readonly rows: readonly PortRow[];
  readonly drawings: readonly VfDrawing[];
}

export function hostPage(view: ControllerView, now: number = viewTime(view)): HostPage {
  const page = pageView(view);
  const rows = portRows(view, page.compare, now);
  return { ...page, now, rows, drawings: view.nics.map((n) => drawVf(n, rows, page.compare, view.vhosts)) };
}
