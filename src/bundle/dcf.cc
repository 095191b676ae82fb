#include "bundle/dcf.h"

#include <cctype>
#include <stdexcept>

#include "bundle/bundle_error.h"

namespace blockyard::bundle {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view line) {
  return trim(line).empty();
}

bool valid_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (const unsigned char c : name)
    if (c == ':' || std::isspace(c) || std::iscntrl(c)) return false;
  return true;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const unsigned char c : s)
    if (!std::isdigit(c)) return false;
  return true;
}

}  // namespace

std::vector<DcfRecord> parse_dcf(std::string_view text, const std::string& what) {
  std::vector<DcfRecord> records;
  DcfRecord current;
  std::string* last_value = nullptr;
  std::size_t line_no = 0;
  auto finish_record = [&] {
    if (!current.empty()) records.push_back(std::move(current));
    current.clear();
    last_value = nullptr;
  };
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank(line)) {
      finish_record();
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (last_value == nullptr)
        throw BundleError(what + ": line " + std::to_string(line_no) +
                          ": continuation line without a field");
      const std::string_view more = trim(line);
      // A lone "." stands for an empty line (Debian's convention).
      *last_value += "\n";
      if (more != ".") *last_value += more;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !valid_field_name(line.substr(0, colon)))
      throw BundleError(what + ": line " + std::to_string(line_no) + ": expected \"Field: value\"");
    auto [it, inserted] = current.insert_or_assign(std::string(line.substr(0, colon)),
                                                   std::string(trim(line.substr(colon + 1))));
    last_value = &it->second;
  }
  finish_record();
  return records;
}

std::string format_dcf(const std::vector<DcfRecord>& records) {
  std::string out;
  for (const auto& record : records) {
    if (!out.empty()) out += "\n";
    for (const auto& [name, value] : record) {
      if (!valid_field_name(name))
        throw std::invalid_argument("DCF field name \"" + name + "\" is not valid");
      out += name + ":";
      std::size_t start = 0;
      bool first = true;
      while (true) {
        const std::size_t nl = value.find('\n', start);
        std::string_view part =
            trim(std::string_view(value).substr(start, nl == std::string::npos ? nl : nl - start));
        if (first) {
          if (!part.empty()) out += " " + std::string(part);
        } else {
          out += part.empty() ? " ." : " " + std::string(part);
        }
        out += "\n";
        first = false;
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    }
  }
  return out;
}

bool is_valid_package_name(std::string_view name) {
  if (name.size() < 2 || !std::isalpha(static_cast<unsigned char>(name.front())) ||
      name.back() == '.')
    return false;
  for (const unsigned char c : name)
    if (!std::isalnum(c) && c != '.') return false;
  return true;
}

bool is_valid_package_version(std::string_view version) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t sep = version.find_first_of(".-", start);
    if (!is_digits(version.substr(start, sep == std::string_view::npos ? sep : sep - start)))
      return false;
    ++parts;
    if (sep == std::string_view::npos) break;
    start = sep + 1;
  }
  return parts >= 2;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item =
        trim(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

std::vector<DependencyEntry> parse_dependency_field(std::string_view field) {
  std::vector<DependencyEntry> out;
  for (const std::string& text : split_list(field)) {
    const std::string_view item = text;
    DependencyEntry entry;
    const std::size_t paren = item.find('(');
    entry.package = std::string(trim(item.substr(0, paren)));
    if (paren != std::string_view::npos) {
      const std::size_t close = item.find(')', paren);
      if (close == std::string_view::npos || !trim(item.substr(close + 1)).empty())
        throw BundleError("dependency \"" + std::string(item) + "\": unbalanced parentheses");
      std::string_view constraint = trim(item.substr(paren + 1, close - paren - 1));
      std::size_t op_len = 0;
      while (op_len < constraint.size() &&
             std::string_view("<>=!").find(constraint[op_len]) != std::string_view::npos)
        ++op_len;
      entry.op = std::string(constraint.substr(0, op_len));
      entry.version = std::string(trim(constraint.substr(op_len)));
      static const char* kOps[] = {">=", ">", "==", "<=", "<", "!="};
      bool known = false;
      for (const char* op : kOps) known = known || entry.op == op;
      if (!known || !is_valid_package_version(entry.version))
        throw BundleError("dependency \"" + std::string(item) + "\": bad version constraint");
    }
    if (entry.package == "R") continue;
    if (!is_valid_package_name(entry.package))
      throw BundleError("dependency \"" + std::string(item) + "\": \"" + entry.package +
                        "\" is not a valid package name");
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace blockyard::bundle
