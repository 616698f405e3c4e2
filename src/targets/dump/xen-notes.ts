// The "Xen" notes of an `xl dump-core` file (.note.Xen; tools/libs/guest/xg_core.h in Xen).
import { ByteReader, FormatError } from '../../../symbols/reader.js';
import type { ElfNote } from '../../../symbols/elf/index.js';

const XEN_NOTE = { HEADER: 0x2000001, XEN_VERSION: 0x2000002, FORMAT_VERSION: 0x2000003 } as const;
const XC_CORE_MAGIC_PV = 0xf00febedn;
const XC_CORE_MAGIC_HVM = 0xf00febeen;
/** The only dump-core format there is: 0.1 (minor bumps stay compatible). */
const FORMAT_MAJOR = 0n;

interface XenDumpHeader {
  pv: boolean;
  nrVcpus: number;
  nrPages: number;
  pageSize: number;
  /** "4.17", when the file says. */
  xenVersion?: string;
}

export function decodeXenNotes(notes: Iterable<ElfNote>): XenDumpHeader {
  let header: XenDumpHeader | undefined;
  let version: string | undefined;
  let format: bigint | undefined;
  for (const n of notes) {
    if (n.name !== 'Xen') continue;
    const what = `Xen note 0x${n.type.toString(16)} at file offset 0x${n.offset.toString(16)}`;
    const r = new ByteReader(n.desc, what);
    if (n.type === XEN_NOTE.HEADER) {
      const magic = r.u64();
      if (magic !== XC_CORE_MAGIC_PV && magic !== XC_CORE_MAGIC_HVM)
        throw new FormatError(what, `unknown dump-core magic 0x${magic.toString(16)}`);
      header = { pv: magic === XC_CORE_MAGIC_PV, nrVcpus: r.u64n(), nrPages: r.u64n(), pageSize: r.u64n() };
    } else if (n.type === XEN_NOTE.XEN_VERSION) {
      version = `${r.u64()}.${r.u64()}`;
    } else if (n.type === XEN_NOTE.FORMAT_VERSION) {
      format = r.u64();
    }
  }
  if (!header) throw new FormatError('.note.Xen', 'no dump-core header note (type 0x2000001)');
  if (format === undefined) throw new FormatError('.note.Xen', 'no dump-core format version note (type 0x2000003)');
  if (format >> 32n !== FORMAT_MAJOR)
    throw new FormatError('.note.Xen', `dump-core format ${format >> 32n}.${format & 0xffff_ffffn} is not supported (only 0.x)`);
  return { ...header, xenVersion: version };
}
