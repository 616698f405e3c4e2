// readMemory, writeMemory, disassemble.
import { InvalidatedEvent, MemoryEvent } from '@vscode/debugadapter';
import { ArgumentError, MAX_MEMORY_BYTES, hexRef, offsetAddress } from '../args.js';
import type { Handler } from '../context.js';
import { disassembleWindow } from '../services/disassembly.js';
import { readPartial } from '../services/memory.js';

/** The most instructions one disassemble request may ask for (VS Code asks for a few hundred). */
const MAX_INSTRUCTIONS = 10_000;

export const memoryHandlers: Record<string, Handler> = {
  async readMemory(ctx, args) {
    const d = ctx.require();
    const address = offsetAddress(args.address('memoryReference'), args.optInt('offset') ?? 0, 'offset');
    const count = args.int('count', 0, MAX_MEMORY_BYTES);
    d.requireStopped('read memory');
    const { data, unreadable } = await readPartial(d.session.target, address, count);
    return { address: hexRef(address), data: Buffer.from(data).toString('base64'), ...(unreadable > 0 && { unreadableBytes: unreadable }) };
  },

  async writeMemory(ctx, args, reply) {
    const d = ctx.require();
    const reference = args.address('memoryReference');
    const offset = args.optInt('offset') ?? 0;
    const address = offsetAddress(reference, offset, 'offset');
    const text = args.str('data');
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new ArgumentError('data is not base64');
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length > MAX_MEMORY_BYTES) throw new ArgumentError(`data is ${bytes.length} bytes; at most ${MAX_MEMORY_BYTES} per request`);
    d.requireStopped('write memory');
    await d.session.target.writeMemory(address, bytes);
    reply.after(() => {
      ctx.send(new MemoryEvent(hexRef(reference), offset, bytes.length));
      ctx.send(new InvalidatedEvent(['variables']));
    });
    return { bytesWritten: bytes.length };
  },

  async disassemble(ctx, args) {
    // VS Code asks with an empty reference for a Disassembly view left open from an earlier
    // session, before this one has stopped anywhere: nothing to show yet.
    if (args.optStr('memoryReference') === '') return { instructions: [] };
    const d = ctx.require();
    const base = offsetAddress(args.address('memoryReference'), args.optInt('offset') ?? 0, 'offset');
    const instructionOffset = args.optInt('instructionOffset', -MAX_INSTRUCTIONS, MAX_INSTRUCTIONS) ?? 0;
    const count = args.int('instructionCount', 0, MAX_INSTRUCTIONS);
    const resolveSymbols = args.optBool('resolveSymbols') ?? true;
    d.requireStopped('disassemble');
    return {
      instructions: await disassembleWindow(
        d.session,
        d.defaultFrame().thread,
        base,
        instructionOffset,
        count,
        resolveSymbols,
        ctx.numbering,
      ),
    };
  },
};
