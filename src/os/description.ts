// What duster knows about a unikernel, as data: where its kernel log and panic record live and how
// to walk its threads. Everything is named by symbols and C expressions evaluated with DWARF types,
// so supporting another unikernel means adding a description, not code.

/**
 * A unikernel's threads. The walk starts at the node `first`, goes on with `next` (over `$n`, the
 * current node) and ends at a null node or at `end`: a linked list is `first: 'thread_list', next:
 * '$n->next'`; an array is `first: '&threads[0]', next: '$n + 1', end: '&threads[nthreads]'`; an
 * intrusive list (Linux's list_head) walks the links and names the thread with `thread`
 * (container_of). Fields are expressions over `$t`, the thread.
 */
export interface ThreadModel {
  first: string;
  next: string;
  end?: string;
  /** The thread a node stands for (default: the node itself). */
  thread?: string;
  /**
   * The thread's own id. Without one (Unikraft knows threads by address), threads are numbered
   * 1, 2, ... in the order the walks first meet them, and shown with their address.
   */
  id?: string;
  name: string;
  state: string;
  /** Evaluated with a vCPU's registers: the thread that vCPU runs now (the per-CPU pointer). */
  current: string;
  /**
   * The same by the vCPU's CPU number `$cpu`, for a target whose registers cannot answer `current`
   * (gdbsx reads no segment bases, so `$gs_base` is unknown under Xen).
   */
  currentByCpu?: string;
  /**
   * How a thread that is on no vCPU saved its registers when it was switched out: `sp` is the
   * saved stack pointer, typed so that `$saved[i]` reads the i-th saved word; `registers` gives
   * each register the thread resumes with (at least rip and rsp) as an expression over `$t` and
   * `$saved`. Registers left out were not saved (caller-saved at the switch).
   */
  saved: {
    sp: string;
    registers: Record<string, string>;
    /** True (over `$t` and `$saved`) for a thread that has not run yet: its registers are its entry's, and its state says so. */
    notStarted?: string;
  };
  /** Functions of the switch path: a listing shows a switched-out thread at its first frame outside them. */
  scheduler: string[];
}

export interface UnikernelDescription {
  name: string;
  /** Every one of these symbols must exist in the image for the description to apply. */
  detect: string[];
  /** An in-memory log ring: `buffer` is a char array, `head` counts every byte ever written. */
  kernelLog?: { buffer: string; head: string };
  /** Set when the kernel panicked: `when` is true then; `cpu` and `pc` say where the fault was. */
  panic?: { when: string; cpu: string; pc: string; reason?: string };
  threads?: ThreadModel;
  /**
   * Functions the guest calls only when it crashes, for guests without pvpanic: `when` (over the
   * vCPU's registers past the function's prologue) tells a crash from another use of the function.
   */
  crash?: Array<{ function: string; when?: string; meaning: string }>;
}

/** A Unikraft thread switched out by ukarch_ctx_switch: it resumes at `pop %r15`. */
const SWITCHED = '*(unsigned short *)$t->ctx.ip == 0x5f41';
/**
 * A Unikraft thread that never ran, made by ukarch_ctx_init_entry1 (every uk_thread_create*): it
 * starts at _ctx_x86_clearregs over the stack [_ctx_x86_call1, arg, entry, 0] (arch/x86/ctx.c), so
 * it is shown as its entry about to run with the 0 return address under it, as gdb shows a thread
 * entry once it runs. Other starts (call0/call2) stay at their start code.
 */
const NEW_ENTRY1 = '$t->ctx.ip == (unsigned long)&_ctx_x86_clearregs && $saved[0] == (unsigned long)&_ctx_x86_call1';

export const DESCRIPTIONS: UnikernelDescription[] = [
  {
    name: 'duster reference unikernel',
    detect: ['klog_buf', 'klog_head', 'thread_list', 'percpu', 'panic_frame'],
    kernelLog: { buffer: 'klog_buf', head: 'klog_head' },
    panic: { when: 'panic_cpu >= 0', cpu: 'panic_cpu', pc: 'panic_frame.rip', reason: 'panic_frame.vector' },
    threads: {
      first: 'thread_list',
      next: '$n->next',
      id: '$t->id',
      name: '$t->name',
      state: '$t->state',
      current: '((struct percpu *)$gs_base)->current_thread',
      currentByCpu: 'percpu[$cpu].current_thread',
      // switch_to pushes rbp, rbx, r12-r15 below its return address and resumes with a ret
      // (kernel.h).
      saved: {
        sp: '(unsigned long *)$t->saved_rsp',
        registers: {
          r15: '$saved[0]',
          r14: '$saved[1]',
          r13: '$saved[2]',
          r12: '$saved[3]',
          rbx: '$saved[4]',
          rbp: '$saved[5]',
          rip: '$saved[6]',
          rsp: '$saved + 7',
        },
      },
      scheduler: [
        'switch_to',
        'schedule_locked',
        'thread_sleep',
        'thread_yield',
        'thread_exit',
        'sched_preempt',
        'sched_timer_tick',
        'trap_handler',
        'trap_common',
      ],
    },
  },
  {
    // Stardust (layout in DESIGN.md): every thread on the list_head `thread_list` through its
    // `thread_link` at offset 120, %gs at this CPU's percpu entry; a switched-out thread keeps sp
    // and ip (a label inside schedule() after the switch) with rbp and rflags pushed at sp.
    name: 'Stardust',
    detect: ['thread_list', 'percpu', 'schedule'],
    threads: {
      first: 'thread_list.next',
      next: '$n->next',
      end: '&thread_list',
      thread: '(struct thread *)((char *)$n - (char *)&((struct thread *)0)->thread_link)',
      id: '$t->tid',
      name: '$t->name',
      state: '$t->state',
      current: '((struct percpu *)$gs_base)->current_thread',
      saved: {
        sp: '(unsigned long *)$t->ctx.sp',
        registers: { rip: '$t->ctx.ip', rbp: '$saved[0]', eflags: '$saved[1]', rsp: '$saved + 2' },
      },
      scheduler: ['schedule', 'thread_sleep', 'thread_yield', 'thread_block'],
    },
  },
  {
    // Unikraft 0.17 (lib/uksched, lib/ukschedcoop, arch/x86/x86_64/ctx.S; facts in the fixtures'
    // README): every thread on uk_sched_head->thread_list, a TAILQ through uk_thread.thread_list;
    // no thread id. The current thread is __uk_sched_thread_current[lcpu idx], GS base = &lcpus[idx]
    // (0 in early boot). ukarch_ctx_switch pushes rbp, rbx, r12-r15, saves ctx.sp and resumes at a
    // label whose first instruction is `pop %r15` (41 5f); a thread that never ran has ctx.ip at
    // its start code and ctx.sp at its initial stack.
    name: 'Unikraft',
    detect: ['uk_sched_head', '__uk_sched_thread_current', 'ukarch_ctx_switch', 'lcpus'],
    threads: {
      first: 'uk_sched_head ? uk_sched_head->thread_list.tqh_first : 0',
      next: '$n->thread_list.tqe_next',
      name: '$t->name',
      state: '$t->flags & 0x10 ? "exited" : $t->flags & 0x8 ? "runnable" : "blocked"',
      current: '$gs_base ? __uk_sched_thread_current[((struct lcpu *)$gs_base)->idx] : 0',
      saved: {
        sp: '(unsigned long *)$t->ctx.sp',
        registers: {
          r15: `${SWITCHED} ? $saved[0] : 0`,
          r14: `${SWITCHED} ? $saved[1] : 0`,
          r13: `${SWITCHED} ? $saved[2] : 0`,
          r12: `${SWITCHED} ? $saved[3] : 0`,
          rbx: `${SWITCHED} ? $saved[4] : 0`,
          rbp: `${SWITCHED} ? $saved[5] : 0`,
          rip: `${SWITCHED} ? $saved[6] : ${NEW_ENTRY1} ? $saved[2] : $t->ctx.ip`,
          rsp: `${SWITCHED} ? $saved + 7 : ${NEW_ENTRY1} ? $saved + 3 : $saved`,
        },
        notStarted: NEW_ENTRY1,
      },
      scheduler: [
        'ukarch_ctx_switch',
        'uk_sched_thread_switch',
        'schedcoop_schedule',
        'uk_sched_yield',
        'uk_sched_thread_sleep',
        'uk_sched_thread_exit',
        'uk_sched_thread_exit2',
      ],
    },
    // UK_CRASH and every fatal trap (do_page_fault, do_gp_fault, ...) end in
    // ukplat_terminate(UKPLAT_CRASH), which powers QEMU off: exit status 0, like a clean exit.
    crash: [{ function: 'ukplat_terminate', when: '$rdi == 3', meaning: 'ukplat_terminate(UKPLAT_CRASH)' }],
  },
];
