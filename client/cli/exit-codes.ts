/** The CLI's exit codes (listed in `imagecast --help`). */
export const EXIT_OK = 0;
/** Anything else went wrong: the release failed or was cancelled, the server could not be reached. */
export const EXIT_FAILURE = 1;
/** The input was refused: an invalid job document, an unreadable or malformed file, a bad argument or option. */
export const EXIT_INVALID_INPUT = 2;
/** `--wait --timeout`: the release did not end in time (it goes on). */
export const EXIT_TIMEOUT = 3;
