/**
 * spp_vf's replies shared between emulators: a vf's reply is a pure function
 * of its start-up options and the commands it has run since it started, so
 * the replay's emulators (one per host, thousands of hosts whose NICs are laid
 * out alike) need to run a given command sequence only once. Each vf walks a
 * tree of command sequences from its start-up options and answers from it
 * while its commands are there; at the first command off the tree it takes
 * the state saved where the tree branches (or runs what it skipped), so from
 * there on it is the vf it would have been. Same replies, same timing: only
 * the work of computing them is shared.
 */
import type { SppVf, VfOptions, VfState } from './vf';

interface Node {
  /** The reply to the command that leads here (undefined: spp_vf does not answer). */
  readonly raw: string | undefined;
  readonly next: Map<string, Node>;
  /** The vf's state here, saved where a vf left the tree. */
  state?: VfState;
}

/** Bytes of replies (and saved states, counted at STATE_BYTES) the tree holds at most; past that it stops growing. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const STATE_BYTES = 4096;

export class SharedReplies {
  private readonly roots = new Map<string, Node>();
  private bytes = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /** The tree of a vf started with these options. */
  root(opts: VfOptions): Node {
    const key = JSON.stringify([opts.secId, [...new Set(opts.lcores)].sort((a, b) => a - b), opts.phyPorts, opts.rings, opts.lenient === true, opts.wedgeOnMissingRing === true]);
    let root = this.roots.get(key);
    if (!root) this.roots.set(key, (root = { raw: undefined, next: new Map() }));
    return root;
  }

  /** Adds the reply under `parent`; undefined once the tree is full. */
  grow(parent: Node, command: string, raw: string | undefined): Node | undefined {
    if (!this.take(command.length + (raw?.length ?? 0))) return undefined;
    const node: Node = { raw, next: new Map() };
    parent.next.set(command, node);
    return node;
  }

  /** Keeps the state at `node` (where vfs leave the tree) if there is room. */
  keep(node: Node, vf: SppVf): void {
    if (node.state === undefined && this.take(STATE_BYTES)) node.state = vf.saveState();
  }

  private take(bytes: number): boolean {
    if (this.bytes + bytes > this.maxBytes) return false;
    this.bytes += bytes;
    return true;
  }
}

/** One vf's replies: from the shared tree where its commands are already there, else from the vf itself. */
export class SharedVf {
  private readonly root: Node;
  /** Where the vf's commands so far lead; undefined once off the tree for good (the tree was full). */
  private at: Node | undefined;
  /** The saved state the real vf must take before running `behind`; undefined: it runs `behind` from where it is. */
  private base: Node | undefined;
  /** Commands answered from the tree (since `base`) that the real vf has not run. */
  private behind: string[] = [];

  constructor(
    private readonly vf: SppVf,
    private readonly shared: SharedReplies,
    opts: VfOptions,
  ) {
    this.root = shared.root(opts);
    this.at = this.root;
  }

  reply(command: string): string | undefined {
    const hit = this.at?.next.get(command);
    if (hit) {
      this.at = hit;
      if (hit.state) {
        this.base = hit;
        this.behind = [];
      } else this.behind.push(command);
      return hit.raw;
    }
    if (this.catchUp() && this.at) this.shared.keep(this.at, this.vf);
    const raw = this.vf.reply(command);
    if (this.at) this.at = this.shared.grow(this.at, command, raw);
    return raw;
  }

  /** Brings the real vf to where its commands lead (before its state is looked at); true if it was behind. */
  catchUp(): boolean {
    if (this.base === undefined && this.behind.length === 0) return false;
    if (this.base?.state) this.vf.loadState(this.base.state);
    for (const c of this.behind) this.vf.reply(c);
    this.base = undefined;
    this.behind = [];
    return true;
  }

  /** The vf restarted: fresh state, as at start-up. */
  reset(): void {
    this.base = undefined;
    this.behind = [];
    this.at = this.root;
  }
}
