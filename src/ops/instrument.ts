/**
 * Decorators that count the agent's I/O at its seams (the spp-ctl API and
 * the etcd writer) without the controller knowing: the daemon wraps the
 * real adapters in them when the ops endpoint is on.
 */
import type { EtcdWriter, PortStatusWrite, SppCtlApi } from '../agent/io';
import { type MirrorCommand, type SppCommand, toMirrorRequest, toRequest } from '../sppctl/commands';
import type { AgentMetrics, WriteOp } from './metrics';

/** spp-ctl's code for a request: its HTTP status, or what kind of failure left none (SppCtlError.kind). */
function codeOf(err: unknown): string {
  const e = err as { status?: unknown; kind?: unknown };
  if (typeof e?.status === 'number') return String(e.status);
  return typeof e?.kind === 'string' ? e.kind : 'unreachable';
}

export function instrumentSppCtl(api: SppCtlApi, metrics: AgentMetrics, now: () => number = () => performance.now()): SppCtlApi {
  // spp-ctl answers 200 to a GET and 204 to a command (spec/spp-ctl.md); an error carries its own status
  const timed = async <T>(method: string, path: string, ok: string, call: () => Promise<T>): Promise<T> => {
    const started = now();
    try {
      const out = await call();
      metrics.sppctlRequest(method, path, ok, now() - started);
      return out;
    } catch (err) {
      metrics.sppctlRequest(method, path, codeOf(err), now() - started);
      throw err;
    }
  };
  return {
    processes: () => timed('GET', '/v1/processes', '200', () => api.processes()),
    vfStatus: (secId: number) => timed('GET', `/v1/vfs/${secId}`, '200', () => api.vfStatus(secId)),
    send: (cmd: SppCommand) => {
      const req = toRequest(cmd);
      return timed(req.method, req.path, '204', () => api.send(cmd));
    },
    mirrorStatus: (secId: number) => timed('GET', `/v1/mirrors/${secId}`, '200', () => api.mirrorStatus(secId)),
    sendMirror: (cmd: MirrorCommand) => {
      const req = toMirrorRequest(cmd);
      return timed(req.method, req.path, '204', () => api.sendMirror(cmd));
    },
  };
}

export function instrumentWriter(writer: EtcdWriter, metrics: AgentMetrics): EtcdWriter {
  const counted = async (op: WriteOp, write: () => Promise<boolean>): Promise<boolean> => {
    try {
      const written = await write();
      metrics.etcdWrite(op, written ? 'written' : 'condition_failed');
      return written;
    } catch (err) {
      metrics.etcdWrite(op, 'error');
      throw err;
    }
  };
  return {
    putPortStatus: (w: PortStatusWrite) => counted('port_status', () => writer.putPortStatus(w)),
    cleanupPort: (host, portId, vhostKey) => counted('unplug_cleanup', () => writer.cleanupPort(host, portId, vhostKey)),
    putTapStatus: async (w) => {
      const written = await counted('tap_status', () => writer.putTapStatus(w));
      if (written) metrics.tapStatusWritten(w.value);
      return written;
    },
    cleanupTap: (c) => counted('tap_cleanup', () => writer.cleanupTap(c)),
    // a read, not a write: not counted
    ...(writer.readBefore ? { readBefore: writer.readBefore.bind(writer) } : {}),
  };
}
