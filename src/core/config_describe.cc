// describe_config(): the effective configuration as TOML, safe to log. Secret
// keys and passwords inside URLs are replaced by [REDACTED].
#include <fmt/format.h>

#include <sstream>

#include "core/config_schema.h"

namespace blockyard {
namespace config_detail {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// "postgres://user:pw@host/db" -> "postgres://user:[REDACTED]@host/db"; the
// libpq keyword form "password=pw" is covered too.
std::string redact_url_password(std::string text) {
  if (const auto scheme = text.find("://"); scheme != std::string::npos) {
    const auto authority = scheme + 3;
    const auto at = text.find('@', authority);
    const auto slash = text.find('/', authority);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = text.find(':', authority);
      if (colon != std::string::npos && colon < at) {
        text.replace(colon + 1, at - colon - 1, kRedacted);
      }
    }
  }
  for (std::size_t pos = text.find("password="); pos != std::string::npos;
       pos = text.find("password=", pos + 1)) {
    const auto begin = pos + 9;
    const auto end = text.find_first_of(" &", begin);
    text.replace(begin, (end == std::string::npos ? text.size() : end) - begin, kRedacted);
  }
  return text;
}

std::string render(const std::string& value) {
  return quote(value);
}
std::string render(bool value) {
  return value ? "true" : "false";
}
std::string render(int value) {
  return std::to_string(value);
}
std::string render(std::int64_t value) {
  return std::to_string(value);
}
std::string render(double value) {
  std::string text = fmt::format("{}", value);
  // Keep it a TOML float so that the output reads back with the same type.
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}
std::string render(Duration value) {
  return quote(format_duration(value));
}

std::string render(const StringList& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + quote(values[i]);
  return out + "]";
}

std::string render(const StringMap& values) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : values) {
    out += fmt::format("{} {} = {}", first ? "" : ",", quote(key), quote(value));
    first = false;
  }
  return out + (values.empty() ? "}" : " }");
}

std::string render(const std::vector<DataMountConfig>& mounts) {
  std::string out = "[";
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    out += fmt::format("{}{{ name = {}, path = {} }}", i ? ", " : "", quote(mounts[i].name),
                       quote(mounts[i].path));
  }
  return out + "]";
}

std::string render(const std::vector<VaultServiceConfig>& services) {
  std::string out = "[";
  for (std::size_t i = 0; i < services.size(); ++i) {
    out += fmt::format("{}{{ id = {}, label = {} }}", i ? ", " : "", quote(services[i].id),
                       quote(services[i].label));
  }
  return out + "]";
}

template <class S>
void describe_section(std::ostream& out, std::string_view name, const S& section) {
  out << '[' << name << "]\n";
  for (const Field<S>& field : schema(&section)) {
    std::string text = std::visit(
        [&](auto member) {
          const auto& value = section.*member;
          using V = std::remove_cvref_t<decltype(value)>;
          if constexpr (std::is_same_v<V, std::string>) {
            if (field.secret && !value.empty()) return quote(kRedacted);
            if (field.key == "url") return quote(redact_url_password(value));
          }
          return render(value);
        },
        field.member);
    out << field.key << " = " << text << '\n';
  }
}

}  // namespace
}  // namespace config_detail

std::string describe_config(const Config& config) {
  using namespace config_detail;
  std::ostringstream out;
  bool first = true;
  for_each_section(config, [&](std::string_view name, const auto& section) {
    using T = std::remove_cvref_t<decltype(section)>;
    if constexpr (is_optional<T>::value) {
      if (!section) return;
      if (!first) out << '\n';
      describe_section(out, name, *section);
    } else {
      if (!first) out << '\n';
      describe_section(out, name, section);
    }
    first = false;
  });
  return out.str();
}

}  // namespace blockyard
