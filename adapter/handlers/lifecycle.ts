// launch, attach, configurationDone, disconnect, terminate.
import { InitializedEvent } from '@vscode/debugadapter';
import { runToImageEntry } from '../../src/engine/image-entry.js';
import { refuseUnknownKeys } from '../config-keys.js';
import { Debuggee } from '../debuggee.js';
import type { AdapterContext, Handler, Reply } from '../context.js';
import { attachConfig, launchConfig, startAttach, startDump, startLaunch, type Started } from '../launch.js';

function adopt(ctx: AdapterContext, request: 'launch' | 'attach', started: Started, stopOnEntry: boolean, reply: Reply): void {
  ctx.debuggee = new Debuggee(request, started, stopOnEntry, ctx.send);
  // Breakpoints can be set from now on: the client sends them, then configurationDone.
  reply.after(() => ctx.send(new InitializedEvent()));
}

function ensureIdle(ctx: AdapterContext): void {
  if (ctx.debuggee) throw new Error('already debugging a guest in this session (disconnect first)');
}

export const lifecycleHandlers: Record<string, Handler> = {
  async launch(ctx, args, reply) {
    ensureIdle(ctx);
    refuseUnknownKeys(args, 'launch');
    const cfg = launchConfig(args);
    adopt(ctx, 'launch', await ('coreDump' in cfg ? startDump(cfg) : startLaunch(cfg)), cfg.stopOnEntry, reply);
  },

  async attach(ctx, args, reply) {
    ensureIdle(ctx);
    refuseUnknownKeys(args, 'attach');
    const cfg = attachConfig(args);
    adopt(ctx, 'attach', await startAttach(cfg), cfg.stopOnEntry, reply);
  },

  async configurationDone(ctx, _args, reply) {
    const d = ctx.require();
    reply.after(() => {
      // A booted image stops at its own entry point, not at the reset vector QEMU holds it at.
      if (d.stopOnEntry && d.image) d.run.start(() => runToImageEntry(d.session, d.image!));
      else if (d.stopOnEntry && d.session.stop) void d.run.report(d.session.stop);
      else d.run.start(() => d.session.continue());
    });
  },

  async disconnect(ctx, args) {
    const d = ctx.debuggee;
    const terminate = args.optBool('terminateDebuggee');
    if (!d) return;
    ctx.debuggee = undefined;
    await d.close(terminate ?? d.request === 'launch');
  },

  /** Ends the guest we launched; a guest we attached to is someone else's: detach from it. */
  async terminate(ctx) {
    const d = ctx.require();
    ctx.debuggee = undefined;
    await d.close(true);
  },
};
