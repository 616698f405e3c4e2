// One guest being debugged over DAP: the engine session, the QEMU we may have started, and the
// adapter's services for them. Forwards the guest's serial console and the engine's messages as
// output events and tells the client once when the guest is gone.
import { OutputEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Session } from '../src/engine/session.js';
import type { QemuInstance } from '../src/qemu/index.js';
import type { Started } from './launch.js';
import { BreakpointRegistry } from './services/breakpoints.js';
import { FrameHandles } from './services/frames.js';
import { Repl } from './services/repl.js';
import { RunService } from './services/run.js';
import { ThreadList } from './services/threads.js';

export class Debuggee {
  readonly threads: ThreadList;
  readonly frames = new FrameHandles();
  readonly breakpoints: BreakpointRegistry;
  readonly run: RunService;
  readonly repl: Repl;
  private ended = false;

  readonly session: Session;
  /** Set when the adapter started QEMU itself (terminate kills it; attach never does). */
  readonly qemu: QemuInstance | undefined;
  /** The file QEMU booted, when the adapter booted one. */
  readonly image: string | undefined;

  constructor(
    readonly request: 'launch' | 'attach',
    started: Started,
    readonly stopOnEntry: boolean,
    private readonly send: (e: DebugProtocol.Event) => void,
  ) {
    const { session, qemu } = started;
    this.session = session;
    this.qemu = qemu;
    this.image = started.image;
    this.threads = new ThreadList(session);
    this.breakpoints = new BreakpointRegistry(session);
    this.run = new RunService(this, send);
    this.repl = new Repl(session, send, qemu);
    session.on('output', (category, text) => send(new OutputEvent(text, category)));
    session.target.on('close', () => this.end());
    qemu?.on('serial', (text) => send(new OutputEvent(text, 'stdout')));
    qemu?.on('exit', () => this.end());
  }

  /** The debugging session is over (guest exited, QEMU killed, detached, connection lost). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.send(new TerminatedEvent());
  }

  /** Ends debugging: kills the QEMU we started when `terminate`, else detaches leaving the guest running. */
  async close(terminate: boolean): Promise<void> {
    try {
      if (terminate && this.qemu) await this.qemu.kill();
      else if (this.session.isAlive) await this.session.detach();
    } finally {
      await this.session.target.close();
      this.session.program?.close();
      this.end();
    }
  }

  /** For requests that need the guest stopped: a clear error instead of the stub's refusal. */
  requireStopped(what: string): void {
    if (this.session.isRunning) throw new Error(`cannot ${what} while the guest is running (pause it first)`);
    if (!this.session.isAlive) throw new Error(`cannot ${what}: the guest is no longer being debugged`);
  }

  /** For requests that resume the guest: stopped, and not a crash dump (which never runs). */
  requireResumable(what: string): void {
    if (this.session.target.kind === 'dump') throw new Error(`cannot ${what}: a crash dump is read-only`);
    this.requireStopped(what);
  }
}
