// Interactive input for the `by` CLI. Prompts go to stderr so stdout stays
// clean for command output. Throws CliError when stdin ends before an answer.
#pragma once

#include <string>

namespace blockyard::cli {

// True when stdin is a terminal (prompting is possible).
bool stdin_is_tty();

// Prints `prompt` and reads one line (without its newline).
std::string prompt_line(const std::string& prompt);

// Like prompt_line, but the terminal does not echo what is typed.
std::string prompt_secret(const std::string& prompt);

// Confirmation of a destructive action: true with `yes` (--yes); on a
// terminal asks "<question> [y/N] " (only y/yes accept); without a terminal
// throws CliError telling the user to pass --yes.
bool confirm_destructive(const std::string& question, bool yes);

}  // namespace blockyard::cli
