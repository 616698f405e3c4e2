// The debug console's split between gdb commands and C expressions, and command completion.
import { describe, expect, it } from 'vitest';
import { completeCommand, isCommandLine } from '../../src/commands/console-language.js';

describe('debug console lines', () => {
  it('takes lines that start with a command word as commands', () => {
    for (const line of [
      'info registers rip',
      'i r',
      'c',
      'continue',
      'break *0x100d1b',
      'x/4gx $rsp',
      'x/2 $rsp',
      'disassemble',
      'stepi 3',
      'help break',
      'inf threads',
    ])
      expect(isCommandLine(line), line).toBe(true);
  });

  it('evaluates expressions, including ones that begin with a command name', () => {
    for (const line of [
      'demo_counter',
      'c = 3',
      'x + 1',
      'i[2]',
      'd->next',
      'b.y',
      'x / 2',
      '(c)',
      'counter_tick',
      '0x10',
      '$rip',
      'x == 1',
    ])
      expect(isCommandLine(line), line).toBe(false);
  });

  it('follows gdb in taking an unambiguous prefix of a command as that command', () => {
    expect(isCommandLine('ena')).toBe(true);
    expect(isCommandLine('(ena)')).toBe(false);
  });

  it('completes command names for the first word only', () => {
    expect(completeCommand('dis')).toEqual(['disable', 'disassemble', 'display']);
    expect(completeCommand('').length).toBeGreaterThan(20);
    expect(completeCommand('info reg')).toEqual([]);
  });
});
