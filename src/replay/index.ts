/** The replay tool as a library (the CLI, the visualizer and the benchmark use it). */
export { replay } from './engine';
export { describeObserved } from './report';
export { compareRequests, requestText } from './request-diff';
export type { ReplayOptions, ReplayReport, HostReport, PortReport, NicReport, StepReport, InputSummary, RecordedComparison } from './report';
export { readInput, parseInput, InputError } from './input';
export type { ReplayInput, SnapshotKv } from './input';
export { checkInvariants, checkHost } from './invariants';
export type { Violation, InvariantCode } from './invariants';
export { readObserved, decodeVfStatus, commandsForStatus } from './vf-status-input';
export { formatReport } from './format';
export { generateSnapshot } from './generate';
export type { GenerateOptions } from './generate';
