// The duster extension: debug sessions of type `duster` run the debug adapter bundled with the
// extension (out/adapter.cjs) under Node, or `duster dap` of the checkout the `duster.path`
// setting names.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const factory = { createDebugAdapterDescriptor: (session: vscode.DebugSession) => adapterFor(context, session) };
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory('duster', factory));
}

function adapterFor(context: vscode.ExtensionContext, session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
  const folder = session.workspaceFolder;
  const settings = vscode.workspace.getConfiguration('duster', folder);
  const node = settings.get<string>('node') || 'node';
  const options = folder ? { cwd: folder.uri.fsPath } : {};
  const setting = settings.get<string>('path');
  if (!setting) return new vscode.DebugAdapterExecutable(node, [context.asAbsolutePath(path.join('out', 'adapter.cjs'))], options);
  return new vscode.DebugAdapterExecutable(node, [dusterScript(setting, folder?.uri.fsPath), 'dap'], options);
}

/** duster's `bin/duster.js`: the setting names the script itself or a duster checkout (relative to the workspace folder). */
function dusterScript(setting: string, workspace: string | undefined): string {
  const named = path.resolve(workspace ?? process.cwd(), setting);
  const script = existsSync(named) && statSync(named).isDirectory() ? path.join(named, 'bin', 'duster.js') : named;
  if (!existsSync(script))
    throw new Error(
      `duster not found at ${script}: set duster.path to duster's bin/duster.js or its checkout, or leave it empty for the bundled adapter`,
    );
  return script;
}
