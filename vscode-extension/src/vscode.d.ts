// The part of the VS Code extension API this extension uses, declared here so that it type-checks
// without @types/vscode (the real module is provided by VS Code at run time). Signatures follow
// @types/vscode; only what extension.ts touches is listed.
declare module 'vscode' {
  export interface Disposable {
    dispose(): unknown;
  }

  export interface ExtensionContext {
    readonly subscriptions: Disposable[];
    asAbsolutePath(relativePath: string): string;
  }

  export interface Uri {
    readonly fsPath: string;
  }

  export interface WorkspaceFolder {
    readonly uri: Uri;
    readonly name: string;
    readonly index: number;
  }

  export interface DebugConfiguration {
    type: string;
    name: string;
    request: string;
    [key: string]: unknown;
  }

  export interface DebugSession {
    readonly id: string;
    readonly type: string;
    readonly name: string;
    readonly workspaceFolder: WorkspaceFolder | undefined;
    readonly configuration: DebugConfiguration;
  }

  export interface DebugAdapterExecutableOptions {
    env?: { [key: string]: string };
    cwd?: string;
  }

  export class DebugAdapterExecutable {
    constructor(command: string, args?: string[], options?: DebugAdapterExecutableOptions);
    readonly command: string;
    readonly args: string[];
    readonly options?: DebugAdapterExecutableOptions;
  }

  export type DebugAdapterDescriptor = DebugAdapterExecutable;

  export type ProviderResult<T> = T | undefined | null | PromiseLike<T | undefined | null>;

  export interface DebugAdapterDescriptorFactory {
    createDebugAdapterDescriptor(
      session: DebugSession,
      executable: DebugAdapterExecutable | undefined,
    ): ProviderResult<DebugAdapterDescriptor>;
  }

  export interface WorkspaceConfiguration {
    get<T>(section: string): T | undefined;
  }

  export namespace workspace {
    export function getConfiguration(section?: string, scope?: WorkspaceFolder | Uri | null): WorkspaceConfiguration;
  }

  export namespace debug {
    export function registerDebugAdapterDescriptorFactory(debugType: string, factory: DebugAdapterDescriptorFactory): Disposable;
  }
}
