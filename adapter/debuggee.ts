// One guest being debugged over DAP: the opened engine session and the adapter's services for it.
// Forwards the guest's serial console and the engine's messages as output events and tells the
// client once when the guest is gone.
import { OutputEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { FramePosition } from '../src/engine/model.js';
import type { Session } from '../src/engine/session.js';
import type { SessionWarning } from '../src/engine/warnings.js';
import type { OpenedSession } from '../src/open/index.js';
import type { QemuInstance } from '../src/qemu/index.js';
import type { CommandConsole, ConsoleLanguage } from './console.js';
import { BreakpointRegistry } from './services/breakpoints.js';
import { FrameHandles } from './services/frames.js';
import { RunService } from './services/run.js';
import { ThreadList } from './services/threads.js';

export class Debuggee {
  readonly threads: ThreadList;
  readonly frames = new FrameHandles();
  readonly breakpoints: BreakpointRegistry;
  readonly run: RunService;
  /** The debug console's command language over this session, when the adapter was given one. */
  readonly console: CommandConsole | undefined;
  readonly session: Session;
  /** Set when the adapter started QEMU itself (terminate kills it; attach never does). */
  readonly qemu: QemuInstance | undefined;
  /** The file QEMU booted, when the adapter booted one. */
  readonly image: string | undefined;
  private ended = false;
  /** The innermost frame of the thread of the last stop. */
  private stopFrame: FramePosition;

  constructor(
    readonly request: 'launch' | 'attach',
    private readonly opened: OpenedSession,
    readonly stopOnEntry: boolean,
    private readonly send: (e: DebugProtocol.Event) => void,
    language: ConsoleLanguage | undefined,
  ) {
    const { session, qemu } = opened;
    this.session = session;
    this.qemu = qemu;
    this.image = opened.image;
    this.threads = new ThreadList(session);
    this.breakpoints = new BreakpointRegistry(session);
    this.stopFrame = { thread: opened.stop.thread, level: 0 };
    session.on('stopped', (stop) => {
      if (stop.kind !== 'exited') this.stopFrame = { thread: stop.thread, level: 0 };
    });
    this.console = language?.open(session, (text) => send(new OutputEvent(text, 'console')), qemu);
    this.run = new RunService(this, send);
    session.on('output', (category, text) => send(new OutputEvent(text, category)));
    // A warning goes to the Debug Console and, as `important` output, to a notification; those
    // found while the session opened first.
    const warn = (w: SessionWarning) => {
      send(new OutputEvent(`warning: ${w.message}\n`, 'console'));
      send(new OutputEvent(`duster: ${w.message}`, 'important'));
    };
    for (const w of session.warnings) warn(w);
    session.on('warning', warn);
    session.target.on('close', () => this.end());
    qemu?.on('serial', (text) => send(new OutputEvent(text, 'stdout')));
    qemu?.on('exit', () => this.end());
  }

  /** The frame a request without a frameId means: the console's selection (the last stop's thread, unless moved). */
  defaultFrame(): FramePosition {
    return this.console?.selected ?? this.stopFrame;
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
      await this.opened.close({ terminate });
    } finally {
      this.end();
    }
  }

  /** For requests that need the guest stopped: a clear error instead of the stub's refusal. */
  requireStopped(what: string): void {
    this.session.ensureStopped(what);
  }

  /** For requests that resume the guest: stopped, and not a crash dump (which never runs). */
  requireResumable(what: string): void {
    this.session.ensureResumable(what);
  }
}
