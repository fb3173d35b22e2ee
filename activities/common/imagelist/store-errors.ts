// The errors of the stored lists, by name, so the CLI gives each its exit code
// (client/cli/command-output.ts) and scripts a stable `code`.

/** Input refused: every problem on its own line, each naming the field, what was expected and what was given. */
export class ImageListInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `refused:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ImageListInputError';
  }
}

/** No endorser, list or image by that name; says which there are. */
export class ImageListNotFoundError extends Error {
  constructor(
    readonly kind: 'endorser' | 'image list' | 'image',
    readonly given: string,
    stored: string[],
    where = '',
  ) {
    const shown =
      stored.slice(0, 10).join(', ') + (stored.length > 10 ? `, … (${stored.length} in all)` : '');
    super(`no ${kind} ${given}${where} (stored: ${shown || 'none'})`);
    this.name = 'ImageListNotFoundError';
  }
}
