/**
 * The spp_vf replies every host's emulator shares in this thread: hosts set
 * up alike build their NICs with the same commands, and each command sequence
 * runs once (src/sppctl/emulator/shared-replies.ts). Bounded in size; the
 * same replies as without it, so the report does not change.
 */
import { SharedReplies } from '../sppctl/emulator';

export const emulatedReplies = new SharedReplies();
