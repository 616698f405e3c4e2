// What the adapter tells the client it can do: only what the handlers really implement.
import type { DebugProtocol } from '@vscode/debugprotocol';

export const CAPABILITIES: DebugProtocol.Capabilities = {
  supportsConfigurationDoneRequest: true,
  supportsConditionalBreakpoints: true,
  supportsHitConditionalBreakpoints: true,
  supportsLogPoints: true,
  supportsFunctionBreakpoints: true,
  supportsInstructionBreakpoints: true,
  supportsDataBreakpoints: true,
  supportsDataBreakpointBytes: true,
  supportsSteppingGranularity: true,
  supportsDisassembleRequest: true,
  supportsReadMemoryRequest: true,
  supportsWriteMemoryRequest: true,
  supportsEvaluateForHovers: true,
  supportsSetVariable: true,
  supportsSetExpression: true,
  supportsLoadedSourcesRequest: true,
  supportsModulesRequest: true,
  supportsCompletionsRequest: true,
  supportsExceptionInfoRequest: true,
  supportsValueFormattingOptions: true,
  supportsTerminateRequest: true,
  supportTerminateDebuggee: true,
};
