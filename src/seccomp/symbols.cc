#include "seccomp/symbols.h"

#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <utility>

namespace blockyard::seccomp {
namespace {

struct Named {
  std::string_view name;
  std::uint64_t value;
};

// The errnos a deny rule may sensibly return; extend when a rule needs more.
constexpr Named kErrnos[] = {
    {"EPERM", EPERM},     {"ENOENT", ENOENT},         {"EIO", EIO},       {"EBADF", EBADF},
    {"EAGAIN", EAGAIN},   {"ENOMEM", ENOMEM},         {"EACCES", EACCES}, {"EFAULT", EFAULT},
    {"EBUSY", EBUSY},     {"EINVAL", EINVAL},         {"ENOTTY", ENOTTY}, {"ENOSYS", ENOSYS},
    {"ENOTSUP", ENOTSUP}, {"EOPNOTSUPP", EOPNOTSUPP},
};

// Constants that argument filters of the inner profile compare against.
// Taken from the system headers so they match the kernel ABI.
constexpr Named kConstants[] = {
    {"CLONE_NEWNS", CLONE_NEWNS},
    {"CLONE_NEWCGROUP", CLONE_NEWCGROUP},
    {"CLONE_NEWUTS", CLONE_NEWUTS},
    {"CLONE_NEWIPC", CLONE_NEWIPC},
    {"CLONE_NEWUSER", CLONE_NEWUSER},
    {"CLONE_NEWPID", CLONE_NEWPID},
    {"CLONE_NEWNET", CLONE_NEWNET},
    {"CLONE_NEWTIME", 0x00000080},  // not in glibc 2.36's <sched.h>
    {"CLONE_FILES", CLONE_FILES},
    {"CLONE_FS", CLONE_FS},
    {"CLONE_SYSVSEM", CLONE_SYSVSEM},
    {"CLONE_THREAD", CLONE_THREAD},
    {"CLONE_VM", CLONE_VM},
    {"TIOCSTI", TIOCSTI},
    {"TIOCLINUX", TIOCLINUX},
    {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
    {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
    {"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
    {"UINT32_MAX", 0xffffffffULL},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_term(std::string_view term) {
  term = trim(term);
  if (term.empty()) return std::nullopt;
  for (const auto& c : kConstants) {
    if (c.name == term) return c.value;
  }
  int base = 10;
  if (term.size() > 2 && term[0] == '0' && (term[1] == 'x' || term[1] == 'X')) {
    base = 16;
    term.remove_prefix(2);
  }
  std::uint64_t value = 0;
  const char* end = term.data() + term.size();
  auto [ptr, ec] = std::from_chars(term.data(), end, value, base);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::optional<int> errno_from_name(std::string_view name) {
  for (const auto& e : kErrnos) {
    if (e.name == name) return static_cast<int>(e.value);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_value_expression(std::string_view text) {
  std::uint64_t result = 0;
  while (true) {
    const auto bar = text.find('|');
    const auto term = parse_term(text.substr(0, bar));
    if (!term) return std::nullopt;
    result |= *term;
    if (bar == std::string_view::npos) return result;
    text.remove_prefix(bar + 1);
  }
}

}  // namespace blockyard::seccomp
