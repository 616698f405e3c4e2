// Everything that resumes the guest goes through here: DAP continue/step requests and console
// commands alike. The engine emits a stop for every internal resume (a line step is many), so the
// client hears one `continued` when the guest starts and one `stopped` when the operation ends.
import { ContinuedEvent, ExitedEvent, OutputEvent, StoppedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { errorLine } from '../../src/commands/interpreter.js';
import type { Session, StopInfo } from '../../src/engine/session.js';
import { describeStop, type StopReport } from './stops.js';
import type { Debuggee } from '../debuggee.js';

export class RunService {
  /** Whether the client already knows the guest runs (a continue/step response says so). */
  private announced = true;
  /** What the last reported stop was, for exceptionInfo. */
  lastReport: (StopReport & { thread: number }) | undefined;

  constructor(
    private readonly d: Debuggee,
    private readonly send: (e: DebugProtocol.Event) => void,
  ) {
    d.session.on('running', () => {
      d.frames.clear();
      if (this.announced) return;
      this.announced = true;
      this.send(new ContinuedEvent(d.threads.knownIdOf(d.session.selectedThread), true));
    });
  }

  private get session(): Session {
    return this.d.session;
  }

  /**
   * Runs an operation that may resume the guest and reports where it ended. `announce` sends a
   * `continued` event if it resumes (console commands; DAP run requests imply it).
   */
  async track<T>(op: () => Promise<T>, announce: boolean): Promise<T> {
    const before = this.session.stop;
    this.announced = !announce;
    try {
      return await op();
    } finally {
      const now = this.session.stop;
      if (now && now !== before) await this.report(now);
    }
  }

  /** Starts a resume in the background, after the request's response went out. */
  start(op: () => Promise<unknown>): void {
    const before = this.session.stop;
    this.track(op, false).catch(async (e: unknown) => {
      this.send(new OutputEvent(`${errorLine(e)}\n`, 'stderr'));
      // The client believes the guest runs: if it never did, say where it still stands.
      const now = this.session.stop;
      if (now && now === before && this.session.isAlive && !this.session.isRunning) await this.report(now, errorLine(e));
    });
  }

  async report(stop: StopInfo, failure?: string): Promise<void> {
    if (stop.kind === 'exited') {
      this.send(new ExitedEvent(stop.exitCode ?? 0));
      this.d.end();
      return;
    }
    const r = await describeStop(stop, this.session, this.d.breakpoints, this.d.qemu);
    const thread = r.thread ?? stop.thread;
    this.session.selectedThread = thread;
    this.lastReport = { ...r, thread };
    const ev = new StoppedEvent(r.reason, await this.d.threads.idOf(thread)) as DebugProtocol.StoppedEvent;
    ev.body = {
      ...ev.body,
      allThreadsStopped: true,
      ...(r.description !== undefined && { description: r.description }),
      ...((failure ?? r.text) !== undefined && { text: failure ?? r.text }),
      ...(r.hitBreakpointIds && { hitBreakpointIds: r.hitBreakpointIds }),
    };
    this.send(ev);
  }
}
