/** The spp-ctl emulator: see docs/emulator.md. */

export type { Emulator, EmulatorOptions, FaultSpec, LogEntry, MirrorSpec, VfSpec } from './emulator';
export { ConnectionDropped, createEmulator, vfSpecs } from './emulator';
export type { ExchangeResult, RestRequest, RestResponse, SppCtlBackend } from './restapi';
export { createRestHandler, RECV_SIZE } from './restapi';
export type { EmulatorServer, ServerOptions } from './server';
export { simHook, startEmulatorServer } from './server';
export type { VfOptions } from './vf';
export { SppVf } from './vf';
