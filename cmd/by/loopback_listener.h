// LoopbackListener: where the browser comes back to `by login` (RFC 8252
// loopback redirect). Listens on 127.0.0.1 on a port the kernel picks; only
// this machine can connect.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/unique_fd.h"

namespace blockyard::cli {

class LoopbackListener {
 public:
  using Params = std::map<std::string, std::string>;

  // Throws CliError when no loopback port can be opened.
  LoopbackListener();

  int port() const { return port_; }

  // Answers requests until "GET /callback?..." arrives (others get 404), or
  // `timeout` passes (nullopt). The callback's page is the HTML that
  // `respond` returns for its parameters.
  std::optional<Params> wait_for_callback(std::chrono::seconds timeout,
                                          const std::function<std::string(const Params&)>& respond);

 private:
  UniqueFd fd_;
  int port_ = 0;
};

}  // namespace blockyard::cli
