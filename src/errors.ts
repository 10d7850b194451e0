// Errors are values that carry the exit code the process should end with.
export class LvskitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Wrong command-line usage: exit 2, as commander and most CLIs do. */
export class UsageError extends LvskitError {
  constructor(message: string) {
    super(message, 2);
  }
}
