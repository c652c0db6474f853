/**
 * A problem the user can fix (a missing tool, a taken port, a bad flag). The CLI
 * prints its message as one line, without a stack trace; anything else is a bug
 * and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}
