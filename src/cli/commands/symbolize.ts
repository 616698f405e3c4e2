// `duster symbolize -e ELF [-f] [-i] [-C] [ADDR...]`: addr2line's output from duster's symbolizer, so
// the two can be diffed and benchmarked. Addresses come from argv, else one per line on stdin.
import { FormatError } from '../../../symbols/reader.js';
import { SymbolFile, type SourceFrame } from '../../../symbols/index.js';

const HELP = `Usage: duster symbolize -e ELF [-a] [-f] [-i] [-C] [ADDR...]
  -e ELF   the image to read symbols from
  -a       print each address before its locations
  -f       print the function name before each location
  -i       print the whole inline chain (innermost first)
  -C       demangle names (C names print as they are)
Addresses are hexadecimal (0x optional); without any, one is read per line from stdin.`;

export interface SymbolizeIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Lines of input, in the batches they arrived in. */
  stdin?: AsyncIterable<string[]>;
}

export async function symbolizeCommand(argv: string[], io: SymbolizeIo): Promise<number> {
  let elf: string | undefined;
  let functions = false;
  let inlines = false;
  let addresses = false;
  const addrs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--exe') elf = argv[++i];
    else if (a.startsWith('--exe=')) elf = a.slice(6);
    else if (a === '-f' || a === '--functions') functions = true;
    else if (a === '-i' || a === '--inlines') inlines = true;
    else if (a === '-a' || a === '--addresses') addresses = true;
    else if (a === '-C' || a === '--demangle') continue;
    else if (a === '-h' || a === '--help') {
      io.stdout(HELP + '\n');
      return 0;
    } else if (/^-[afiC]+$/.test(a)) {
      functions ||= a.includes('f');
      inlines ||= a.includes('i');
      addresses ||= a.includes('a');
    } else if (a.startsWith('-')) {
      io.stderr(`duster symbolize: unknown option ${a}\n${HELP}\n`);
      return 2;
    } else addrs.push(a);
  }
  if (!elf) {
    io.stderr(`duster symbolize: -e ELF is required\n${HELP}\n`);
    return 2;
  }
  let sf: SymbolFile;
  try {
    sf = await SymbolFile.open(elf);
  } catch (e) {
    io.stderr(`duster symbolize: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    // One write per batch of input (argv, or what stdin delivered at once), still answering as lines arrive.
    const batch = (lines: string[]) =>
      io.stdout(
        lines
          .filter((l) => l.trim())
          .map((l) => format(sf, l.trim(), functions, inlines, addresses))
          .join(''),
      );
    if (addrs.length > 0) batch(addrs);
    else if (io.stdin) for await (const lines of io.stdin) batch(lines);
    return 0;
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    io.stderr(`duster symbolize: ${e.message}\n`);
    return 1;
  } finally {
    sf.close();
  }
}

function format(sf: SymbolFile, text: string, functions: boolean, inlines: boolean, addresses: boolean): string {
  const addr = parseAddress(text);
  const head = addresses ? `0x${(addr ?? 0n).toString(16).padStart(16, '0')}\n` : '';
  const frames = addr === undefined ? [] : sf.symbolize(addr);
  if (frames.length === 0) return `${head}${functions ? '??\n' : ''}??:0\n`;
  // addr2line prints the innermost row's discriminator on every frame of the chain; so do we.
  const disc = frames[0]!.discriminator;
  return head + (inlines ? frames : frames.slice(0, 1)).map((f) => frameText(f, functions, disc)).join('');
}

function frameText(f: SourceFrame, functions: boolean, disc: number): string {
  const where = `${f.file ?? '??'}:${f.line === 0 ? '?' : f.line}${f.line !== 0 && disc ? ` (discriminator ${disc})` : ''}`;
  return `${functions ? `${f.function ?? '??'}\n` : ''}${where}\n`;
}

function parseAddress(text: string): bigint | undefined {
  const hex = text.replace(/^0[xX]/, '');
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return undefined;
  return BigInt('0x' + hex);
}
