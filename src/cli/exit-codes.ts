/** Exit codes shared by every `orchard` subcommand. */

/** Exit code for a problem with the user's input (bad file, failed validation). */
export const EXIT_INPUT = 1;
/** Exit code for misuse (unknown command, missing or invalid option). */
export const EXIT_USAGE = 2;
