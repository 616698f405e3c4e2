// The engine's side of the OS plugin interface: what a plugin reads the guest through (GuestAccess),
// made from a session and its symbols. Expressions see the image's globals only, never a frame.
import type { GuestAccess } from './guest-os.js';
import { evaluateText } from './evaluate.js';
import type { Program } from './program.js';
import type { Session } from './session.js';

export function guestAccess(session: Session, program: Program): GuestAccess {
  const reader = session.inspector.reader;
  return {
    program,
    reader,
    async evaluate(expression, opts = {}) {
      const registers = opts.vcpu === undefined ? undefined : await session.target.readRegisters(opts.vcpu);
      // A vCPU's registers come with its view of memory (per-CPU data through its own mappings).
      const through = opts.vcpu === undefined ? reader : session.inspector.readerFor(opts.vcpu);
      return evaluateText(
        { target: session.target, program, reader: through, ...(registers && { registers }), ...(opts.vars && { convenience: opts.vars }) },
        expression,
      );
    },
    vcpus: () => session.threadIds(),
    readCString: async (address, max) => (await session.code.readCString(address, max)).value,
    // Kernel code (a panic's pc) is long-mode code.
    instructionAt: async (address) => (await session.code.instructionAt(address, 64).catch(() => undefined))?.text,
  };
}
