// setBreakpoints (source lines, with conditions, hit conditions and logpoints),
// setFunctionBreakpoints, setInstructionBreakpoints, dataBreakpointInfo, setDataBreakpoints.
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { errorLine } from '../../src/engine/errors.js';
import { watchRangeProblem } from '../../src/engine/breakpoint-table.js';
import type { Breakpoint } from '../../src/engine/breakpoints.js';
import { parseLocation, type LocationSpec } from '../../src/engine/location.js';
import type { WatchAccess } from '../../src/targets/index.js';
import { ArgumentError, hexRef, offsetAddress, type Args } from '../args.js';
import type { Debuggee } from '../debuggee.js';
import type { Handler } from '../context.js';
import { pointKey, type WantedPoint } from '../services/breakpoints.js';
import { breakpointView, liveReference } from '../views.js';

type StopOptions = Partial<Pick<Breakpoint, 'condition' | 'hitCondition' | 'logMessage'>>;

/** Condition, hit condition and log message of one requested breakpoint (empty strings mean none). */
function stopOptions(b: Args, logpoints: boolean): StopOptions {
  const condition = b.optStr('condition') || undefined;
  const hitCondition = b.optStr('hitCondition') || undefined;
  const logMessage = logpoints ? b.optStr('logMessage') : undefined;
  return { ...(condition && { condition }), ...(hitCondition && { hitCondition }), ...(logMessage !== undefined && { logMessage }) };
}

function codePoint(
  d: Debuggee,
  spec: LocationSpec | undefined,
  opts: StopOptions,
  invalid: string | undefined,
  extra: Partial<DebugProtocol.Breakpoint> = {},
): WantedPoint {
  return {
    key: pointKey({ spec, ...opts }),
    ...(invalid !== undefined && { invalid }),
    add: () => d.session.addBreakpoint(spec!, { ...opts, pendingOk: false }),
    show: (p, failure) => ({ ...breakpointView(p, failure), ...extra }),
  };
}

/** Data breakpoint ids carry what to watch: `0xADDRESS:SIZE:EXPRESSION`. */
function dataId(address: bigint, size: number, expression: string): string {
  return `${hexRef(address)}:${size}:${expression}`;
}

function parseDataId(id: string): { address: bigint; size: number; expression: string } | undefined {
  const m = /^0x([0-9a-f]{1,16}):(\d+):(.*)$/s.exec(id);
  return m ? { address: BigInt(`0x${m[1]}`), size: Number(m[2]), expression: m[3]! } : undefined;
}

const ACCESS: Record<string, WatchAccess> = { write: 'write', read: 'read', readWrite: 'access' };

function dataInfo(address: bigint, size: number, expression: string): DebugProtocol.DataBreakpointInfoResponse['body'] {
  const problem = watchRangeProblem(address, size);
  if (problem) return { dataId: null, description: `${expression}: ${problem}` };
  return {
    dataId: dataId(address, size, expression),
    description: `${expression} (${size} bytes at ${hexRef(address)})`,
    accessTypes: ['write', 'read', 'readWrite'],
    canPersist: false,
  };
}

export const breakpointHandlers: Record<string, Handler> = {
  async setBreakpoints(ctx, args) {
    const d = ctx.require();
    const source = args.optObj('source');
    if (!source) throw new ArgumentError('source is missing');
    const file = source.str('path');
    const requested = args.has('breakpoints') ? args.objects('breakpoints') : [];
    const wanted = requested.map((b) => {
      const line = b.int('line', 1);
      // The editor's file is found in the debug info under the name it was built with (sourceMap).
      const recorded = d.session.program?.sourcePaths.recorded(file) ?? file;
      const spec: LocationSpec = { kind: 'line', file: recorded, line: ctx.numbering.lineFromClient(line) };
      return codePoint(d, spec, stopOptions(b, true), undefined, { source: { path: file, name: path.basename(file) }, line });
    });
    d.requireStopped('change breakpoints');
    return { breakpoints: await d.breakpoints.replace(`source:${file}`, 'source', wanted) };
  },

  async setFunctionBreakpoints(ctx, args) {
    const d = ctx.require();
    const wanted = args.objects('breakpoints').map((b) => {
      const name = b.str('name');
      let spec: LocationSpec | undefined;
      let invalid: string | undefined;
      try {
        spec = parseLocation(name);
      } catch (e) {
        invalid = errorLine(e);
      }
      return codePoint(d, spec, stopOptions(b, false), invalid);
    });
    d.requireStopped('change breakpoints');
    return { breakpoints: await d.breakpoints.replace('function', 'function', wanted) };
  },

  async setInstructionBreakpoints(ctx, args) {
    const d = ctx.require();
    const wanted = args.objects('breakpoints').map((b) => {
      const address = offsetAddress(b.address('instructionReference'), b.optInt('offset') ?? 0, b.name('offset'));
      return codePoint(d, { kind: 'address', address }, stopOptions(b, false), undefined);
    });
    d.requireStopped('change breakpoints');
    return { breakpoints: await d.breakpoints.replace('instruction', 'instruction', wanted) };
  },

  async dataBreakpointInfo(ctx, args) {
    const d = ctx.require();
    const name = args.str('name');
    if (args.optBool('asAddress')) return dataInfo(args.address('name'), args.int('bytes', 1), `*${name}`);
    d.requireStopped('find what to watch');
    let expression = name;
    if (args.has('variablesReference')) {
      const ref = liveReference(d, args);
      const child = (await d.session.children(ref)).find((v) => v.name === name);
      if (!child) throw new ArgumentError(`name '${name}' is not a variable of variablesReference ${ref}`);
      if (child.expression === undefined) return { dataId: null, description: `${name} has no expression that could be watched` };
      expression = child.expression;
    }
    const frame = args.has('frameId') ? d.frames.require(args) : d.defaultFrame();
    try {
      const { address, size } = await d.session.watchTarget(expression, frame);
      return dataInfo(address, size, expression);
    } catch (e) {
      return { dataId: null, description: `${expression}: ${errorLine(e)}` };
    }
  },

  async setDataBreakpoints(ctx, args) {
    const d = ctx.require();
    const wanted = args.objects('breakpoints').map((b): WantedPoint => {
      const id = b.str('dataId');
      const accessType = b.optStr('accessType') ?? 'write';
      const access = ACCESS[accessType];
      if (!access) throw new ArgumentError(`${b.name('accessType')} '${accessType}' is not one of read, write, readWrite`);
      const what = parseDataId(id);
      const condition = b.optStr('condition') || undefined;
      const invalid = !what
        ? `${b.name('dataId')} '${id}' is not a data breakpoint id from dataBreakpointInfo`
        : b.optStr('hitCondition')
          ? 'hit conditions on data breakpoints are not supported'
          : undefined;
      return {
        key: pointKey({ id, access, condition }),
        ...(invalid !== undefined && { invalid }),
        add: () =>
          d.session.addWatchpoint({
            expression: what!.expression,
            address: what!.address,
            length: what!.size,
            access,
            ...(condition !== undefined && { condition }),
          }),
        show: breakpointView,
      };
    });
    d.requireStopped('change breakpoints');
    return { breakpoints: await d.breakpoints.replace('data', 'data', wanted) };
  },

  /** duster offers no exception filters: guest faults always stop. Only an empty set is valid. */
  async setExceptionBreakpoints(_ctx, args) {
    const filters = args.has('filters') ? args.strings('filters') : [];
    if (filters.length)
      throw new ArgumentError(`filters: duster has no exception filters (got ${filters.join(', ')}); guest faults always stop`);
    return { breakpoints: [] };
  },
};
