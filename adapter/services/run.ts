// How the client hears about the guest running and stopping: the engine tells once per operation
// (a line step is many resumes), whoever started it (a DAP request or a console command), and this
// turns that into one `continued` (unless the request implied it) and one `stopped` event.
import { ContinuedEvent, ExitedEvent, OutputEvent, StoppedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { errorLine } from '../../src/engine/errors.js';
import type { StopEvent } from '../../src/engine/stop-event.js';
import { describeStop, type StopReport } from './stops.js';
import type { Debuggee } from '../debuggee.js';

export class RunService {
  /** The client already knows the guest runs (a continue/step request says so). */
  private implied = false;
  /** Stops reported so far (to tell whether a failed operation reported one). */
  private reported = 0;
  /** What the last reported stop was, for exceptionInfo. */
  lastReport: (StopReport & { thread: number }) | undefined;

  constructor(
    private readonly d: Debuggee,
    private readonly send: (e: DebugProtocol.Event) => void,
  ) {
    d.session.on('running', () => {
      d.frames.clear();
      if (!this.implied) this.send(new ContinuedEvent(d.threads.knownIdOf(d.defaultFrame().thread), true));
    });
    d.session.on('stopped', (stop) => void this.report(stop));
  }

  /** Starts a resume the client asked for (continue, next, ...) in the background, after the response went out. */
  start(op: () => Promise<unknown>): void {
    const before = this.reported;
    this.implied = true;
    op()
      .catch(async (e: unknown) => {
        this.send(new OutputEvent(`${errorLine(e)}\n`, 'stderr'));
        // The client believes the guest runs: if it never did, say where it still stands.
        const s = this.d.session;
        if (this.reported === before && s.stop && s.isAlive && !s.isRunning) await this.report(s.stop, errorLine(e));
      })
      .finally(() => (this.implied = false));
  }

  async report(stop: StopEvent, failure?: string): Promise<void> {
    this.reported++;
    if (stop.kind === 'exited') {
      this.send(new ExitedEvent(stop.exitCode));
      this.d.end();
      return;
    }
    const r = await describeStop(stop, this.d.session, this.d.breakpoints);
    this.lastReport = { ...r, thread: stop.thread };
    const ev = new StoppedEvent(r.reason, await this.d.threads.idOf(stop.thread)) as DebugProtocol.StoppedEvent;
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
