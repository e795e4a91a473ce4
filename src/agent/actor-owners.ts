/**
 * Machines provided once per process (machine.provide() builds a whole new
 * machine: xstate re-parses and re-indexes the config, and its transition
 * caches start cold) serve every host's actors. Their actors and actions
 * find the host part that started them through the actor system they share
 * with their root actor.
 */
import type { AnyActorRef } from 'xstate';

type System = AnyActorRef['system'];

export class ActorOwners<T> {
  private readonly owners = new WeakMap<System, T>();

  /** `what`: the machine, for the error of an actor started elsewhere. */
  constructor(private readonly what: string) {}

  /** Before the root actor starts. */
  add(root: AnyActorRef, owner: T): void {
    this.owners.set(root.system, owner);
  }

  of(system: System): T {
    const owner = this.owners.get(system);
    if (owner === undefined) throw new Error(`${this.what}: its actor was not started by this agent's controller`);
    return owner;
  }
}
