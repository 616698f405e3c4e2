// launch, attach, configurationDone, disconnect, terminate.
import { InitializedEvent } from '@vscode/debugadapter';
import { runToImageEntry } from '../../src/engine/image-entry.js';
import { refuseUnknownKeys } from '../config-keys.js';
import { Debuggee } from '../debuggee.js';
import type { AdapterContext, Handler, Reply } from '../context.js';
import { openSession } from '../../src/open/index.js';
import { attachConfig, launchConfig, type DebugConfig } from '../launch.js';

async function adopt(ctx: AdapterContext, cfg: DebugConfig, reply: Reply): Promise<void> {
  ctx.debuggee = new Debuggee(cfg.request, await openSession(cfg.session), cfg.stopOnEntry, ctx.send, ctx.language);
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
    await adopt(ctx, launchConfig(args), reply);
  },

  async attach(ctx, args, reply) {
    ensureIdle(ctx);
    refuseUnknownKeys(args, 'attach');
    await adopt(ctx, attachConfig(args), reply);
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
