// What duster knows about a unikernel, as data: where its kernel log and panic record live and how
// to walk its threads. Everything is named by symbols and C expressions evaluated with DWARF types,
// so supporting another unikernel means adding a description, not code.

export interface UnikernelDescription {
  name: string;
  /** Every one of these symbols must exist in the image for the description to apply. */
  detect: string[];
  /** An in-memory log ring: `buffer` is a char array, `head` counts every byte ever written. */
  kernelLog?: { buffer: string; head: string };
  /** Set when the kernel panicked: `when` is true then; `cpu` and `pc` say where the fault was. */
  panic?: { when: string; cpu: string; pc: string; reason?: string };
  /**
   * The thread list. `first` is an expression for the first thread (a pointer); `next` gives the
   * following one from `$t` (the current thread pointer); fields are expressions over `$t`.
   */
  threads?: {
    first: string;
    next: string;
    id: string;
    name: string;
    state: string;
    /** The vCPU a running thread is on. */
    cpu: string;
    /** The value of `state` (as printed) of a thread that is on a vCPU right now. */
    runningState: string;
    /**
     * Where a thread that is not running saved its registers: `sp` is an expression for the saved
     * stack pointer; `slots` name the 8-byte words from there (the switch frame); the thread's
     * rsp once it resumes is sp + 8 * slots.length.
     */
    saved: { sp: string; slots: string[] };
  };
}

export const DESCRIPTIONS: UnikernelDescription[] = [
  {
    name: 'duster reference unikernel',
    detect: ['klog_buf', 'klog_head', 'thread_list', 'percpu', 'panic_frame'],
    kernelLog: { buffer: 'klog_buf', head: 'klog_head' },
    panic: { when: 'panic_cpu >= 0', cpu: 'panic_cpu', pc: 'panic_frame.rip', reason: 'panic_frame.vector' },
    threads: {
      first: 'thread_list',
      next: '$t->next',
      id: '$t->id',
      name: '$t->name',
      state: '$t->state',
      cpu: '$t->cpu',
      runningState: 'THREAD_RUNNING',
      // context_switch pushes rbp, rbx, r12-r15 below the return address (see kernel.h).
      saved: { sp: '$t->saved_rsp', slots: ['r15', 'r14', 'r13', 'r12', 'rbx', 'rbp', 'rip'] },
    },
  },
];
