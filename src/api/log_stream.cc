#include "api/log_stream.h"

namespace blockyard::api {

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace

http::ChunkSource log_chunks(std::shared_ptr<const LineLog> log, bool follow, int wait_ms) {
  struct State {
    std::shared_ptr<const LineLog> log;
    std::size_t next = 0;
    bool started = false;
    bool finished = false;
  };
  auto state = std::make_shared<State>();
  state->log = std::move(log);
  return [state, follow, wait_ms]() -> http::Chunk {
    if (state->finished) return {"", true};
    LineLog::Slice slice = state->started ? state->log->wait_from(state->next, wait_ms)
                                          : state->log->read_from(state->next);
    state->started = true;
    state->next = slice.next;
    state->finished = !follow || slice.closed;
    return {join_lines(slice.lines), state->finished};
  };
}

http::Response log_response(std::shared_ptr<const LineLog> log, bool follow) {
  http::Response response;
  response.status = 200;
  response.headers.set("Content-Type", "text/plain; charset=utf-8");
  response.stream = log_chunks(std::move(log), follow);
  return response;
}

}  // namespace blockyard::api
