// UpstreamPool: idle keep-alive connections to workers, so a page load's many
// requests reuse a few TCP connections instead of connecting for each one.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace blockyard::proxy {

class UpstreamPool {
 public:
  using tcp = boost::asio::ip::tcp;

  explicit UpstreamPool(std::size_t max_idle_per_worker = 16)
      : max_idle_per_worker_(max_idle_per_worker) {}

  // An idle connection to the worker that is still open, if any.
  std::optional<tcp::socket> take(const std::string& worker_id);
  // Returns a connection after a complete response that allows reuse.
  void give(const std::string& worker_id, tcp::socket socket);
  // Forgets (closes) every idle connection to a worker that has gone.
  void drop(const std::string& worker_id);

 private:
  const std::size_t max_idle_per_worker_;
  std::mutex mu_;
  std::map<std::string, std::vector<tcp::socket>> idle_;
};

}  // namespace blockyard::proxy
