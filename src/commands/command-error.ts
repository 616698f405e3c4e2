// A command's mistake in the user's terms (one line), apart from the interpreter so that the code a
// crash report shares with the commands (frame lines) does not load the whole command table.
export class CommandError extends Error {
  override name = 'CommandError';
}
