/** The replay tool as a library (the CLI, the visualizer and the benchmark use it). */
export { replay } from './engine';
export { formatReport } from './format';
export type { GenerateOptions } from './generate';
export { generateSnapshot } from './generate';
export type { ReplayInput, SnapshotKv } from './input';
export { InputError, parseInput, readInput } from './input';
export type { InvariantCode, Violation } from './invariants';
export { checkHost, checkInvariants } from './invariants';
export type { HostReport, InputSummary, NicReport, PortReport, RecordedComparison, ReplayOptions, ReplayReport, StepReport } from './report';
export { describeObserved } from './report';
export { compareRequests, requestText } from './request-diff';
export { commandsForStatus, decodeVfStatus, readObserved } from './vf-status-input';
