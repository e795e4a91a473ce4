/** The server-side client: the mechanism driver's half of the etcd protocol. */
export { bindPort, bindResult, bindPortValue, DEFAULT_BIND_TIMEOUT_MS } from './bind';
export type { BindPortRequest, BindResult } from './bind';
export { unbindPort, waitForCleanup, DEFAULT_UNBIND_TIMEOUT_MS } from './unbind';
export type { UnbindPortRequest, UnbindResult, UnbindOutcome } from './unbind';
export { listPorts, portRows } from './list';
export type { PortRow, PortField } from './list';
export { claimVhost, releaseVhost, vhostSlots } from './claim';
export type { Claim, VhostSlot } from './claim';
export { waitForPortStatus, judgeStatus } from './status';
export type { StatusOutcome, WaitForPortStatusOptions } from './status';
export { readHostConfiguration, checkAgentAlive, requirePhysicalNetwork } from './host';
export { bindInputProblem, unbindInputProblem } from './validate';
export { BindError, UnbindError } from './errors';
export type { BindErrorCode, UnbindErrorCode } from './errors';
export { formatPortTable } from './format';
