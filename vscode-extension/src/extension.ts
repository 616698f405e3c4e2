// The duster extension: debug sessions of type `duster` run the `duster dap` adapter of the
// workspace's duster (or the one the `duster.path` setting names) under Node.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory('duster', { createDebugAdapterDescriptor: adapterFor }));
}

function adapterFor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
  const folder = session.workspaceFolder;
  const settings = vscode.workspace.getConfiguration('duster', folder);
  const cli = dusterScript(settings.get<string>('path'), folder?.uri.fsPath);
  return new vscode.DebugAdapterExecutable(settings.get<string>('node') || 'node', [cli, 'dap'], folder ? { cwd: folder.uri.fsPath } : {});
}

/**
 * duster's `bin/duster.js`: from the setting (the script itself or a duster checkout, relative to
 * the workspace folder), else the workspace when it is duster, else its node_modules/duster.
 */
function dusterScript(setting: string | undefined, workspace: string | undefined): string {
  const base = workspace ?? process.cwd();
  const candidates = setting ? [path.resolve(base, setting)] : [base, path.join(base, 'node_modules', 'duster')];
  for (const c of candidates) {
    const script = existsSync(c) && statSync(c).isDirectory() ? path.join(c, 'bin', 'duster.js') : c;
    if (existsSync(script)) return script;
  }
  throw new Error(`duster not found in ${candidates.join(' or ')}: set duster.path to duster's bin/duster.js or its checkout`);
}
