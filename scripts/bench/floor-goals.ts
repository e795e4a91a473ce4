/**
 * The speed goals of issue 32 held against a floor measured in the same run:
 * a plug against the floor of its own protocol steps, a replay against what
 * its read and its machines alone cost. Each returns the goal's name, pass
 * and detail for `Report.goal`, so the GOAL line shows the ratio.
 */

/** A flat plug's p50 may be at most this multiple of the floor (issue 32 item 1). */
export const PLUG_FLOOR_FACTOR = 1.15;
/** The history replay's limit over its read plus its machines' floor (issue 32 item 3). */
export const HISTORY_FLOOR_FACTOR = 1.5;
/** The snapshot replay's limit over a thread's share of its machines' floor (issue 32 item 3). */
export const SNAPSHOT_FLOOR_FACTOR = 2;

export interface FloorGoal {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

const x = (v: number): string => `${v.toFixed(2)}x`;

/** plug.flat against the run's floor (a watch delivery, one spp-ctl request, one etcd put). */
export function flatPlugGoal(p50Ms: number, floorMs: number): FloorGoal {
  return {
    name: `plug.flat p50 within ${PLUG_FLOOR_FACTOR}x the floor of the same run`,
    pass: p50Ms <= PLUG_FLOOR_FACTOR * floorMs,
    detail: `${p50Ms.toFixed(2)} ms vs floor ${floorMs.toFixed(2)} ms (${x(p50Ms / floorMs)})`,
  };
}

/**
 * plug.vlan against the floor plus its commands: the flat floor plus one
 * request floor for each request beyond the first, with the flat plug's
 * tolerance (a VLAN plug's protocol steps are the flat ones and more requests).
 */
export function vlanPlugGoal(p50Ms: number, floorMs: number, requests: number, requestMs: number): FloorGoal {
  const own = floorMs + Math.max(0, requests - 1) * requestMs;
  return {
    name: `plug.vlan p50 within ${PLUG_FLOOR_FACTOR}x the floor plus its commands`,
    pass: p50Ms <= PLUG_FLOOR_FACTOR * own,
    detail: `${p50Ms.toFixed(2)} ms vs ${own.toFixed(2)} ms = floor ${floorMs.toFixed(2)} ms + ${requests - 1} more requests of ${requestMs.toFixed(2)} ms (${x(p50Ms / own)})`,
  };
}

/** One host's history: read and replayed within HISTORY_FLOOR_FACTOR x (its read + its port machines alone, cold). */
export function historyGoal(revisions: number, totalMs: number, readMs: number, machinesMs: number): FloorGoal {
  const floor = readMs + machinesMs;
  return {
    name: `one host's ${revisions.toLocaleString('en-US')}-revision history within ${HISTORY_FLOOR_FACTOR}x its read plus its machine floor`,
    pass: totalMs <= HISTORY_FLOOR_FACTOR * floor,
    detail: `${totalMs.toFixed(0)} ms vs ${floor.toFixed(0)} ms = read ${readMs.toFixed(0)} ms + machines ${machinesMs.toFixed(0)} ms (${x(totalMs / floor)})`,
  };
}

/** The snapshot replay within SNAPSHOT_FLOOR_FACTOR x a thread's share of its machines alone (cold): the threads run side by side. */
export function snapshotGoal(what: string, ms: number, threadFloorMs: number, threads: number): FloorGoal {
  return {
    name: `${what} replayed within ${SNAPSHOT_FLOOR_FACTOR}x its machine floor per thread`,
    pass: ms <= SNAPSHOT_FLOOR_FACTOR * threadFloorMs,
    detail: `${(ms / 1000).toFixed(2)} s vs ${(threadFloorMs / 1000).toFixed(2)} s for 1/${threads} of its machines alone (${x(ms / threadFloorMs)})`,
  };
}
