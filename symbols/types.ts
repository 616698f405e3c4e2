// C types from DWARF type DIEs, resolved lazily and cached by DIE offset, with names printed the
// way C and gdb write them (`char *`, `int [3][4]`, `void (*)(int)`, `struct point`).
import { DW_AT, DW_FORM, DW_TAG } from './dwarf/constants.js';
import type { Die } from './dwarf/die.js';

export type Type =
  | { kind: 'void' }
  /** `nodebug`: an ELF data symbol without debug info (its name), gdb's `<data variable, no debug info>`. */
  | {
      kind: 'base';
      name: string;
      size: number;
      encoding: number;
      nodebug?: string;
      /** gdb's flags type of a register ($eflags, $mxcsr): its named bit fields, [start, end, name]. */
      flags?: ReadonlyArray<readonly [number, number, string]>;
    }
  | { kind: 'pointer' | 'reference' | 'rvalue-reference'; target: Type; size: number }
  | { kind: 'qualified'; qualifier: 'const' | 'volatile' | 'restrict' | 'atomic'; target: Type }
  | { kind: 'typedef'; name: string; target: Type }
  | StructType
  | { kind: 'array'; element: Type; /** One per dimension, outermost first; undefined = unknown bound. */ dims: (number | undefined)[] }
  | EnumType
  /** `nodebug`: an ELF text symbol without debug info, gdb's `<text variable, no debug info>`. */
  | { kind: 'function'; returns: Type; params: Type[]; varargs: boolean; prototyped: boolean; nodebug?: boolean }
  | { kind: 'unknown'; tag: number; die: number };

export interface StructType {
  kind: 'struct' | 'union' | 'class';
  name?: string;
  size: number;
  /** A declaration only (the definition lives elsewhere or nowhere). */
  declaration: boolean;
  members: Member[];
  die: number;
}

export interface Member {
  name?: string;
  type: Type;
  /** Byte offset of the member (of its storage unit for bitfields). */
  offset: number;
  /** Bitfields: width and offset in bits from the start of the struct (DWARF 5 numbering, little-endian). */
  bitSize?: number;
  bitOffset?: number;
}

export interface EnumType {
  kind: 'enum';
  name?: string;
  size: number;
  underlying?: Type;
  enumerators: { name: string; value: bigint }[];
  declaration: boolean;
  die: number;
}

const VOID: Type = { kind: 'void' };
const MAX_DEPTH = 64;

/** Resolves type DIEs to Types, once per DIE (structs are cached before their members, so cycles end). */
export class TypeResolver {
  private readonly cache = new Map<Die, Type>();

  /** The type a DIE's DW_AT_type names (void when absent). */
  typeOf(die: Die): Type {
    const t = die.ref(DW_AT.type);
    return t ? this.resolve(t) : VOID;
  }

  resolve(die: Die): Type {
    const hit = this.cache.get(die);
    if (hit) return hit;
    const size = die.udata(DW_AT.byte_size) ?? 0;
    switch (die.tag) {
      case DW_TAG.base_type:
        return this.keep(die, { kind: 'base', name: cName(die.name ?? '?'), size, encoding: die.udata(DW_AT.encoding) ?? 0 });
      case DW_TAG.unspecified_type:
        return this.keep(die, { kind: 'base', name: die.name ?? 'void', size, encoding: 0 });
      case DW_TAG.pointer_type:
      case DW_TAG.reference_type:
      case DW_TAG.rvalue_reference_type: {
        const kind = die.tag === DW_TAG.pointer_type ? 'pointer' : die.tag === DW_TAG.reference_type ? 'reference' : 'rvalue-reference';
        const t = { kind, target: VOID, size: size || die.unit.addressSize } as Type & { target: Type };
        this.cache.set(die, t);
        t.target = this.typeOf(die);
        return t;
      }
      case DW_TAG.const_type:
      case DW_TAG.volatile_type:
      case DW_TAG.restrict_type:
      case DW_TAG.atomic_type: {
        const qualifier =
          die.tag === DW_TAG.const_type
            ? 'const'
            : die.tag === DW_TAG.volatile_type
              ? 'volatile'
              : die.tag === DW_TAG.restrict_type
                ? 'restrict'
                : 'atomic';
        const t: Type & { target: Type } = { kind: 'qualified', qualifier, target: VOID };
        this.cache.set(die, t);
        t.target = this.typeOf(die);
        return t;
      }
      case DW_TAG.typedef: {
        const t: Type & { target: Type } = { kind: 'typedef', name: die.name ?? '?', target: VOID };
        this.cache.set(die, t);
        t.target = this.typeOf(die);
        return t;
      }
      case DW_TAG.structure_type:
      case DW_TAG.union_type:
      case DW_TAG.class_type: {
        const kind = die.tag === DW_TAG.structure_type ? 'struct' : die.tag === DW_TAG.union_type ? 'union' : 'class';
        const t: StructType = { kind, name: die.name, size, declaration: die.flag(DW_AT.declaration), members: [], die: die.offset };
        this.cache.set(die, t);
        for (const c of die.children) if (c.tag === DW_TAG.member) t.members.push(this.member(c, kind === 'union'));
        return t;
      }
      case DW_TAG.array_type: {
        const t: Type & { element: Type } = { kind: 'array', element: VOID, dims: [] };
        this.cache.set(die, t);
        t.element = this.typeOf(die);
        for (const c of die.children) {
          if (c.tag !== DW_TAG.subrange_type) continue;
          const count = c.udata(DW_AT.count);
          const upper = c.attr(DW_AT.upper_bound);
          const lower = c.udata(DW_AT.lower_bound) ?? 0;
          // An upper bound that is not a constant (a VLA's DIE reference/expression) is unknown here.
          const ub =
            upper && typeof upper.value === 'number' && upper.form !== DW_FORM.exprloc && upper.form !== DW_FORM.ref4
              ? upper.value
              : undefined;
          t.dims.push(count ?? (ub !== undefined ? ub - lower + 1 : undefined));
        }
        return t;
      }
      case DW_TAG.enumeration_type: {
        const t: EnumType = {
          kind: 'enum',
          name: die.name,
          size,
          enumerators: [],
          declaration: die.flag(DW_AT.declaration),
          die: die.offset,
        };
        this.cache.set(die, t);
        const under = die.ref(DW_AT.type);
        if (under) t.underlying = this.resolve(under);
        for (const c of die.children) {
          if (c.tag !== DW_TAG.enumerator) continue;
          const a = c.attr(DW_AT.const_value);
          const v = a?.value;
          t.enumerators.push({ name: c.name ?? '?', value: typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n });
        }
        return t;
      }
      case DW_TAG.subroutine_type:
      case DW_TAG.subprogram: {
        // A concrete copy (a GCC clone such as count.constprop.0.isra.0) has its own parameter
        // list, typed through each one's origin, and its origin's return type: gdb's type of it.
        const viaOrigin = (d: Die): Type => {
          const ref = d.followOrigin((x) => x.ref(DW_AT.type));
          return ref ? this.resolve(ref) : VOID;
        };
        const t: Type & { returns: Type; params: Type[] } = {
          kind: 'function',
          returns: VOID,
          params: [],
          varargs: false,
          prototyped: !!die.followOrigin((x) => (x.flag(DW_AT.prototyped) ? true : undefined)),
        };
        this.cache.set(die, t);
        t.returns = viaOrigin(die);
        for (const c of die.children) {
          if (c.tag === DW_TAG.formal_parameter) t.params.push(viaOrigin(c));
          else if (c.tag === DW_TAG.unspecified_parameters) t.varargs = true;
        }
        return t;
      }
      default:
        return this.keep(die, { kind: 'unknown', tag: die.tag, die: die.offset });
    }
  }

  private keep(die: Die, t: Type): Type {
    this.cache.set(die, t);
    return t;
  }

  private member(c: Die, inUnion: boolean): Member {
    const type = this.typeOf(c);
    const loc = c.attr(DW_AT.data_member_location);
    const offset = loc && typeof loc.value === 'number' && loc.form !== DW_FORM.exprloc ? loc.value : inUnion ? 0 : 0;
    const m: Member = { name: c.name, type, offset };
    const bitSize = c.udata(DW_AT.bit_size);
    if (bitSize !== undefined) {
      m.bitSize = bitSize;
      const dataBit = c.udata(DW_AT.data_bit_offset);
      if (dataBit !== undefined) {
        m.bitOffset = dataBit;
        m.offset = Math.floor(dataBit / 8);
      } else {
        // DWARF 2-4: bit_offset counts from the most significant bit of a byte_size storage unit.
        const storage = c.udata(DW_AT.byte_size) ?? sizeOf(type);
        m.bitOffset = offset * 8 + storage * 8 - (c.udata(DW_AT.bit_offset) ?? 0) - bitSize;
      }
    }
    return m;
  }
}

/** GCC names integer types the long way ("long unsigned int"); gdb and C programmers write "unsigned long". */
const GCC_NAMES: Record<string, string> = {
  'long int': 'long',
  'long unsigned int': 'unsigned long',
  'short int': 'short',
  'short unsigned int': 'unsigned short',
  'long long int': 'long long',
  'long long unsigned int': 'unsigned long long',
};

function cName(name: string): string {
  return GCC_NAMES[name] ?? name;
}

/** Size in bytes (0 for void, functions and incomplete types). */
export function sizeOf(t: Type, depth = 0): number {
  if (depth > MAX_DEPTH) return 0;
  switch (t.kind) {
    case 'base':
    case 'struct':
    case 'union':
    case 'class':
    case 'enum':
      return t.size;
    case 'pointer':
    case 'reference':
    case 'rvalue-reference':
      return t.size;
    case 'qualified':
    case 'typedef':
      return sizeOf(t.target, depth + 1);
    case 'array':
      return t.dims.reduce<number>((n, d) => n * (d ?? 0), sizeOf(t.element, depth + 1));
    default:
      return 0;
  }
}

/** The type without typedefs and qualifiers. */
/** The type without its const/volatile/restrict/atomic qualifiers (typedefs kept). */
export function stripQualifiers(t: Type): Type {
  for (let i = 0; i < MAX_DEPTH && t.kind === 'qualified'; i++) t = t.target;
  return t;
}

/** gdb's type of an ELF text symbol without debug info: a function of unknown type. */
export const NODEBUG_TEXT: Type = {
  kind: 'function',
  returns: { kind: 'base', name: 'int', size: 4, encoding: 5 },
  params: [],
  varargs: false,
  prototyped: false,
  nodebug: true,
};

/** gdb's type of an ELF data symbol without debug info: usable only through `&` or a cast. */
export function nodebugData(symbol: string): Type {
  return { kind: 'base', name: '<data variable, no debug info>', size: 0, encoding: 0, nodebug: symbol };
}

export function stripTypedefs(t: Type): Type {
  for (let i = 0; i < MAX_DEPTH && (t.kind === 'typedef' || t.kind === 'qualified'); i++) t = t.target;
  return t;
}

/** The C name of a type (gdb's `whatis`), optionally declaring `declarator` (a variable or member name). */
export function typeName(t: Type, declarator = '', depth = 0): string {
  if (depth > MAX_DEPTH) return '...';
  const withDecl = (base: string) => (declarator ? `${base} ${declarator}` : base);
  switch (t.kind) {
    case 'void':
      return withDecl('void');
    case 'base':
    case 'typedef':
      return withDecl(t.name);
    case 'struct':
    case 'union':
    case 'class':
    case 'enum':
      return withDecl(t.name ? `${t.kind} ${t.name}` : `${t.kind} {...}`);
    case 'unknown':
      return withDecl(`<unknown type 0x${t.tag.toString(16)}>`);
    case 'pointer':
    case 'reference':
    case 'rvalue-reference': {
      const sigil = t.kind === 'pointer' ? '*' : t.kind === 'reference' ? '&' : '&&';
      const inner = /^(const|volatile|restrict|_Atomic)\b/.test(declarator) ? `${sigil} ${declarator}` : sigil + declarator;
      const target = t.target;
      // A qualified array (`const T[N]` as GCC emits it: const_type over the array) is an array too.
      let bare = target;
      while (bare.kind === 'qualified' && bare.target.kind !== 'pointer') bare = bare.target;
      return typeName(target, bare.kind === 'array' || (bare.kind === 'function' && !bare.nodebug) ? `(${inner})` : inner, depth + 1);
    }
    case 'qualified': {
      const target = t.target;
      // Qualifiers of a pointer follow its star (`char * const`); of anything else, they lead (`const char`).
      if (target.kind === 'pointer' || target.kind === 'reference')
        return typeName(target, declarator ? `${t.qualifier} ${declarator}` : t.qualifier, depth + 1);
      const quals: string[] = [t.qualifier];
      let inner = target;
      while (inner.kind === 'qualified' && inner.target.kind !== 'pointer') {
        quals.push(inner.qualifier);
        inner = inner.target;
      }
      if (inner.kind === 'array' || inner.kind === 'function') return typeName(inner, declarator, depth + 1);
      return `${quals.join(' ')} ${typeName(inner, declarator, depth + 1)}`;
    }
    case 'array': {
      const dims = t.dims.map((d) => `[${d ?? ''}]`).join('');
      return typeName(t.element, `${declarator}${dims}`, depth + 1);
    }
    case 'function': {
      if (t.nodebug) return withDecl('<text variable, no debug info>');
      const params = t.params.map((p) => typeName(p, '', depth + 1));
      if (t.varargs) params.push('...');
      const list = params.length > 0 ? params.join(', ') : t.prototyped ? 'void' : '';
      return typeName(t.returns, `${declarator}(${list})`, depth + 1);
    }
  }
}
