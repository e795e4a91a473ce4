/** The spp-ctl emulator: see docs/emulator.md. */
export { createEmulator, vfSpecs, ConnectionDropped } from './emulator';
export type { Emulator, EmulatorOptions, VfSpec, FaultSpec, LogEntry } from './emulator';
export { startEmulatorServer, simHook } from './server';
export type { EmulatorServer, ServerOptions } from './server';
export { createRestHandler, RECV_SIZE } from './restapi';
export type { RestRequest, RestResponse, SppCtlBackend, ExchangeResult } from './restapi';
export { SppVf } from './vf';
export type { VfOptions } from './vf';
