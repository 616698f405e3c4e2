// Whether the symbols belong to the guest: the image's build ID note compared with the guest's
// memory at the note's address (one small read), else a few samples of its read-only contents
// (four reads of 64 bytes). Done once when a session opens, never per stop. A read that fails
// (memory a dump lacks, a page not mapped yet) or finds only zeros (an image the firmware has not
// copied in yet) leaves the question open rather than guessing.
import path from 'node:path';
import { buildIdText, imageIdentity } from '../../symbols/elf/index.js';
import type { Target } from '../targets/index.js';
import type { Program } from './program.js';
import type { SessionWarning } from './warnings.js';

export type SymbolCheck =
  | { verdict: 'match' | 'unknown'; by?: 'build-id' | 'samples' }
  | { verdict: 'mismatch'; warning: Extract<SessionWarning, { kind: 'symbols-mismatch' }> };

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
/** Memory a boot loader has not filled yet (a multiboot image at reset is copied in by firmware): no answer either way. */
const unloaded = (a: Uint8Array) => a.every((x) => x === 0);

export async function checkSymbols(target: Target, program: Program): Promise<SymbolCheck> {
  const identity = imageIdentity(program.symbols.elf);
  if (!identity) return { verdict: 'unknown' };
  const file = path.basename(program.path);
  if (identity.kind === 'build-id') {
    const { note } = identity;
    const guest = await target.readMemory(note.address, note.bytes.length).catch(() => undefined);
    if (!guest || unloaded(guest)) return { verdict: 'unknown', by: 'build-id' };
    if (equal(guest, note.bytes)) return { verdict: 'match', by: 'build-id' };
    const image = buildIdText(note.id);
    // The guest's own ID, when the same kind of note (header and name) stands there.
    const theirs = equal(guest.subarray(0, note.bytes.length - note.id.length), note.bytes.subarray(0, note.bytes.length - note.id.length))
      ? buildIdText(guest.subarray(note.bytes.length - note.id.length))
      : undefined;
    const message = `symbols do not match the guest: ${file} has build ID ${image}, the guest ${theirs ? `has build ID ${theirs}` : `has no such build ID note at 0x${note.address.toString(16)}`}; backtraces and values may be wrong`;
    return {
      verdict: 'mismatch',
      warning: {
        kind: 'symbols-mismatch',
        symbols: program.path,
        imageBuildId: image,
        ...(theirs && { guestBuildId: theirs }),
        address: note.address,
        differing: 1,
        compared: 1,
        message,
      },
    };
  }
  const { samples } = identity;
  const read = await Promise.all(
    samples.map((s) =>
      target
        .readMemory(s.address, s.bytes.length)
        .then((b) => (unloaded(b) && !unloaded(s.bytes) ? undefined : b))
        .catch(() => undefined),
    ),
  );
  const compared = samples.filter((_, i) => read[i] !== undefined);
  if (compared.length === 0) return { verdict: 'unknown', by: 'samples' };
  const differing = samples.filter((s, i) => read[i] !== undefined && !equal(read[i]!, s.bytes));
  if (differing.length === 0) return { verdict: 'match', by: 'samples' };
  const first = differing[0]!.address;
  const message = `symbols do not match the guest: ${differing.length} of ${compared.length} samples of ${file}'s code and read-only data differ from the guest's memory (first at 0x${first.toString(16)}); backtraces and values may be wrong`;
  return {
    verdict: 'mismatch',
    warning: {
      kind: 'symbols-mismatch',
      symbols: program.path,
      address: first,
      differing: differing.length,
      compared: compared.length,
      message,
    },
  };
}
