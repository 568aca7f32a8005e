/**
 * A mistake in what the user gave us (config, scenario, trace, flags). The CLI prints its message
 * as one line on stderr and exits with code 2, without a stack trace. The message names the field
 * (a dotted path, a file and offset, a flag) and what is accepted.
 *
 * Architectural misbehaviour (a bad descriptor, an access outside every region) is never a
 * UserError: it produces the architectural outcome and the run goes on.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'UserError';
  }
}
