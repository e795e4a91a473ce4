/** The agent's etcd writes over etcd3. */
import type { Etcd3 } from 'etcd3';
import { FREE_VHOST } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import type { EtcdWriter, PortStatusWrite } from './ports';

export class Etcd3Writer implements EtcdWriter {
  constructor(private readonly client: Etcd3) {}

  async putPortStatus(w: PortStatusWrite): Promise<boolean> {
    const action = keys.action(w.host, w.portId);
    const cond = w.whileAction === 'plug' ? this.client.if(action, 'Value', '==', 'plug') : this.client.if(action, 'Create', '>', 0);
    const res = await cond.then(this.client.put(keys.portStatus(w.host, w.portId)).value(w.value)).commit();
    return res.succeeded;
  }

  async cleanupPort(host: string, portId: string, vhostKey: string | undefined): Promise<boolean> {
    const action = keys.action(host, portId);
    const deletes = (): Array<ReturnType<Etcd3['delete']>> => [
      this.client.delete().key(keys.bindPort(host, portId)),
      this.client.delete().key(action),
      this.client.delete().key(keys.portStatus(host, portId)),
    ];
    // Only while the action is still unplug: a driver that flipped it back to
    // plug meanwhile keeps its keys, and the port is plugged again.
    if (vhostKey !== undefined) {
      const res = await this.client
        .if(action, 'Value', '==', 'unplug')
        .and(vhostKey, 'Value', '==', portId)
        .then(this.client.put(vhostKey).value(FREE_VHOST), ...deletes())
        .commit();
      if (res.succeeded) return true;
    }
    // The vhost is not (or no longer) this port's: leave it, remove the port's keys.
    const res = await this.client.if(action, 'Value', '==', 'unplug').then(...deletes()).commit();
    return res.succeeded;
  }
}
