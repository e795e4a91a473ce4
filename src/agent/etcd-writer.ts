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

  async cleanupPort(host: string, portId: string, vhostKey: string | undefined): Promise<void> {
    const deletes = [
      this.client.delete().key(keys.bindPort(host, portId)),
      this.client.delete().key(keys.action(host, portId)),
      this.client.delete().key(keys.portStatus(host, portId)),
    ];
    if (vhostKey === undefined) {
      // etcd3 builds transactions from a comparison; both branches delete
      await this.client.if(keys.action(host, portId), 'Create', '>', 0).then(...deletes).else(...deletes).commit();
      return;
    }
    // Another port may own the vhost by now (or set-up reset it): free it only
    // if it is still ours, and remove this port's keys either way.
    await this.client
      .if(vhostKey, 'Value', '==', portId)
      .then(this.client.put(vhostKey).value(FREE_VHOST), ...deletes)
      .else(...deletes)
      .commit();
  }
}
