#include "preflight/probe_command.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "preflight/tcp_probe.h"

namespace blockyard::preflight {

int run_probe_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"blockyard probe: test whether a TCP address is reachable from here"};
  app.name("blockyard probe");
  std::string target, timeout_text = "2s";
  app.add_option("--tcp", target, "HOST:PORT to connect to")->required();
  app.add_option("--timeout", timeout_text, "give up after this long (Go duration, e.g. 2s)");
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses from the back
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "blockyard probe: " << e.what() << "\n";
    return 2;
  }
  auto address = parse_host_port(target);
  if (!address) {
    err << "blockyard probe: --tcp wants HOST:PORT, got \"" << target << "\"\n";
    return 2;
  }
  Duration timeout;
  try {
    timeout = parse_duration(timeout_text);
  } catch (const std::exception&) {
    err << "blockyard probe: --timeout wants a duration such as 2s, got \"" << timeout_text
        << "\"\n";
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto result = tcp_connect(address->host, address->port, timeout);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  nlohmann::json line{
      {"target", target}, {"reachable", result.ok()}, {"elapsed_ms", elapsed.count()}};
  if (!result.ok()) line["error"] = result.error;
  out << line.dump() << std::endl;
  return result.ok() ? 0 : 1;
}

}  // namespace blockyard::preflight
