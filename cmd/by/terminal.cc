#include "terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <iostream>

#include "lib/cli_error.h"

namespace blockyard::cli {
namespace {

// Turns terminal echo off for its lifetime; restores the previous mode even
// when reading throws.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

std::string read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) throw CliError("no input (stdin closed)");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

bool stdin_is_tty() {
  return ::isatty(STDIN_FILENO) == 1;
}

std::string prompt_line(const std::string& prompt) {
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  return read_line();
}

std::string prompt_secret(const std::string& prompt) {
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  std::string line;
  {
    EchoOff echo_off;
    line = read_line();
  }
  std::fputs("\n", stderr);  // the user's Enter was not echoed
  return line;
}

bool confirm_destructive(const std::string& question, bool yes) {
  if (yes) return true;
  if (!stdin_is_tty()) throw CliError(question + " needs confirmation; pass --yes");
  std::string answer = prompt_line(question + " [y/N] ");
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

}  // namespace blockyard::cli
