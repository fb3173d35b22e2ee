/** The CLI's exit codes (documented in `imagecast --help` and docs/cli.md). */
export const EXIT_OK = 0;
/** The release failed or was cancelled, or the server could not be reached. */
export const EXIT_FAILURE = 1;
/** The input was refused: an invalid job document, an unreadable file, a bad argument. */
export const EXIT_INVALID_INPUT = 2;
