/**
 * The questions code outside machines/ may ask of a machine's state, as
 * XState tags (`snapshot.hasTag`). Callers ask a tag, never a state name, so
 * a renamed or split state keeps idle detection, metrics, logs, explain and
 * the page right; test/machine-tags.test.ts lists every state with its tags.
 * A nested state has its parent's tags too (`plugged.steady` is `up`).
 */

/**
 * - `busy`: mid-run; the host is not settled (evaluating, a plug or unplug
 *   in flight, the error being reported).
 * - `deciding`: the routine step that picks the next run.
 * - `running`: spp-ctl commands in flight (plug or unplug).
 * - `removing`: the run in flight is an unplug.
 * - `up`: plugged.
 * - `free`: holds nothing in spp_vf (never plugged, or unplugged).
 * - `waiting`: waits for its NIC.
 * - `retrying`: the last run failed; waits to try again.
 * - `failed`: gave up until the intent or spp_vf changes.
 */
export type PortTag = 'busy' | 'deciding' | 'running' | 'removing' | 'up' | 'free' | 'waiting' | 'retrying' | 'failed';
export const PORT_TAGS: readonly PortTag[] = ['busy', 'deciding', 'running', 'removing', 'up', 'free', 'waiting', 'retrying', 'failed'];

/**
 * - `busy`: on its way to ready (waiting for the vf, building).
 * - `running`: a build or resync in flight.
 * - `up`: built and usable; its ports may run.
 * - `retrying`: the last attempt failed; waits to try again.
 * - `stopped`: the controller stopped it.
 */
export type NicTag = 'busy' | 'running' | 'up' | 'retrying' | 'stopped';
export const NIC_TAGS: readonly NicTag[] = ['busy', 'running', 'up', 'retrying', 'stopped'];

/**
 * A tap flow (machines/tap.ts) answers the port's questions with the same
 * words: `busy`, `deciding`, `running`, `removing` (an unplug run), `up`
 * (mirrored), `free` (holds nothing), `waiting` (for its vfs or the mirror),
 * `retrying`, `failed` (tap_status = error: ...).
 */
export type TapTag = PortTag;
export const TAP_TAGS: readonly TapTag[] = PORT_TAGS;
