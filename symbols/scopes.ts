// What is in scope at a pc: for each frame of the inline chain, its function DIE, the lexical
// blocks holding pc, and its parameters and locals (innermost block first, shadowed names
// dropped), each with the location expression in effect at pc.
import { DW_AT, DW_TAG } from './dwarf/constants.js';
import type { Die } from './dwarf/die.js';
import { isLocationList, locationAt, readLocationList } from './dwarf/loclists.js';
import type { Unit } from './dwarf/unit.js';
import { unitContext, type ExprWithContext } from './expr-context.js';
import type { TypeResolver, Type } from './types.js';

export type VariableLocation =
  /** `until`: the end of the location-list entry it came from (none: valid in the whole scope). */
  | { kind: 'expr'; expr: ExprWithContext; until?: bigint }
  /** No location at pc (a location list without an entry for pc, or no DW_AT_location). */
  | { kind: 'optimized-out' };

export interface VariableInfo {
  name: string;
  kind: 'arg' | 'local';
  type: Type;
  location: VariableLocation;
  /** DW_AT_const_value: a number, or the bytes of a block/string form. */
  constValue?: bigint | Uint8Array;
  declFile?: string;
  declLine?: number;
  die: Die;
}

export interface FrameScope {
  /** The subprogram or inlined_subroutine DIE of this frame. */
  function: Die;
  name?: string;
  inlined: boolean;
  /** Lexical blocks holding pc, outermost first. */
  blocks: Die[];
  variables: VariableInfo[];
  /** DW_AT_frame_base of the concrete function (inlined frames share it). */
  frameBase?: ExprWithContext;
}

/** Scopes at pc inside the concrete function `fn`, innermost frame first. */
export function scopesAt(
  unit: Unit,
  fn: Die,
  pc: bigint,
  types: TypeResolver,
  fileName: (i: number | undefined) => string | undefined,
): FrameScope[] {
  const frameBase = expressionAt(unit, fn, DW_AT.frame_base, pc);
  const frames: FrameScope[] = [];
  let current: FrameScope = { function: fn, name: fn.functionName, inlined: false, blocks: [], variables: [], frameBase };
  const chain: { frame: FrameScope; dies: Die[] }[] = [{ frame: current, dies: [fn] }];
  // Walk down the DIE tree along pc: blocks extend the current frame, inlined calls start a new one.
  let node: Die | undefined = fn;
  while (node) {
    const next: Die | undefined = node.children.find(
      (c) => (c.tag === DW_TAG.lexical_block || c.tag === DW_TAG.inlined_subroutine) && contains(unit, c, pc),
    );
    if (!next) break;
    if (next.tag === DW_TAG.inlined_subroutine) {
      current = { function: next, name: next.functionName, inlined: true, blocks: [], variables: [], frameBase };
      chain.push({ frame: current, dies: [next] });
    } else {
      current.blocks.push(next);
      chain[chain.length - 1]!.dies.push(next);
    }
    node = next;
  }
  for (const { frame, dies } of chain) {
    const seen = new Set<string>();
    for (let i = dies.length - 1; i >= 0; i--) {
      for (const c of dies[i]!.children) {
        if (c.tag !== DW_TAG.variable && c.tag !== DW_TAG.formal_parameter) continue;
        const v = variableInfo(unit, c, pc, types, fileName);
        if (!v || seen.has(v.name)) continue;
        seen.add(v.name);
        frame.variables.push(v);
      }
    }
    frames.unshift(frame);
  }
  return frames;
}

function contains(unit: Unit, d: Die, pc: bigint): boolean {
  return unit.ranges(d).some((r) => pc >= r.start && pc < r.end);
}

export function variableInfo(
  unit: Unit,
  d: Die,
  pc: bigint | undefined,
  types: TypeResolver,
  fileName: (i: number | undefined) => string | undefined,
): VariableInfo | undefined {
  const name = d.resolvedName;
  if (name === undefined) return undefined;
  const typeDie = d.followOrigin((x) => x.ref(DW_AT.type));
  const cv = d.followOrigin((x) => x.attr(DW_AT.const_value));
  let constValue: bigint | Uint8Array | undefined;
  if (cv)
    constValue =
      cv.value instanceof Uint8Array ? cv.value : typeof cv.value === 'string' ? new TextEncoder().encode(cv.value) : BigInt(cv.value);
  const { expr, until } = exprAt(unit, d, DW_AT.location, pc);
  // The type and the file are found when first asked for: a backtrace reads every frame's scopes
  // for the variables' locations only, and a kernel struct's type is thousands of DIEs.
  let type: Type | undefined;
  let declFile: { file: string | undefined } | undefined;
  return {
    name,
    kind: d.tag === DW_TAG.formal_parameter ? 'arg' : 'local',
    get type(): Type {
      return (type ??= typeDie ? types.resolve(typeDie) : { kind: 'void' });
    },
    location: expr ? { kind: 'expr', expr, ...(until !== undefined && { until }) } : { kind: 'optimized-out' },
    constValue,
    get declFile(): string | undefined {
      return (declFile ??= { file: fileName(d.followOrigin((x) => x.udata(DW_AT.decl_file))) }).file;
    },
    declLine: d.followOrigin((x) => x.udata(DW_AT.decl_line)),
    die: d,
  };
}

/** The expression of a location-valued attribute at pc (a list entry; without pc, a plain expression only). */
function expressionAt(unit: Unit, d: Die, at: number, pc: bigint | undefined): ExprWithContext | undefined {
  return exprAt(unit, d, at, pc).expr;
}

function exprAt(unit: Unit, d: Die, at: number, pc: bigint | undefined): { expr?: ExprWithContext; until?: bigint } {
  const a = d.attr(at);
  if (!a) return {};
  let bytes: Uint8Array | undefined;
  let until: bigint | undefined;
  if (a.value instanceof Uint8Array) bytes = a.value;
  else if (isLocationList(a) && pc !== undefined) {
    // A damaged list costs this variable its location (named once), not the frame's other variables.
    const list = unit.dwarf.damage.guard(
      unit.version >= 5 ? '.debug_loclists' : '.debug_loc',
      typeof a.value === 'number' ? a.value : 0,
      'location list',
      () => readLocationList(unit, a),
      undefined,
    );
    const entry = list && locationAt(list, pc);
    bytes = entry?.expr;
    until = entry?.end;
  }
  return bytes && bytes.length > 0 ? { expr: { expr: bytes, unit: unitContext(unit) }, ...(until !== undefined && { until }) } : {};
}
