/** The server-side client: the mechanism driver's half of the etcd protocol. */

export type { BindPortRequest, BindResult } from './bind';
export { bindPort, bindPortValue, bindResult, DEFAULT_BIND_TIMEOUT_MS } from './bind';
export type { Claim, VhostSlot } from './claim';
export { claimVhost, releaseVhost, vhostSlots } from './claim';
export type { BindErrorCode, UnbindErrorCode } from './errors';
export { BindError, UnbindError } from './errors';
export { formatPortTable } from './format';
export { checkAgentAlive, readHostConfiguration, requirePhysicalNetwork } from './host';
export type { PortField, PortRow } from './list';
export { listPorts, portRows } from './list';
export type { StatusOutcome, WaitForPortStatusOptions } from './status';
export { judgeStatus, waitForPortStatus } from './status';
export type { CreateTapRequest, CreateTapResult, DeleteTapRequest, DeleteTapResult, TapDirection } from './tap';
export { createTap, createTapInputProblem, DEFAULT_TAP_TIMEOUT_MS, deleteTap, deleteTapInputProblem, TAP_DIRECTIONS } from './tap';
export type { MirrorSlot } from './tap-claim';
export { claimMirror, freeMirror, mirrorSlots } from './tap-claim';
export type { TapErrorCode } from './tap-errors';
export { TAP_EXIT_CODES, TapError } from './tap-errors';
export type { TapField, TapRow } from './tap-list';
export { formatTapTable, listTaps, tapRows } from './tap-list';
export type { UnbindOutcome, UnbindPortRequest, UnbindResult } from './unbind';
export { DEFAULT_UNBIND_TIMEOUT_MS, unbindPort, waitForCleanup } from './unbind';
export { bindInputProblem, unbindInputProblem } from './validate';
