// relay_body(): streams an HTTP message body from one stream to another
// through a fixed buffer, without holding the whole body in memory (the
// asynchronous form of Boost.Beast's relay example). The header must already
// be read into `parser` and transformed; the serializer writes it first.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace blockyard::proxy {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// A relay's 64 KiB buffer. Blocks are reused per thread: allocating (and
// glibc trimming) one per proxied response showed as ~10 % of the proxy's
// CPU (bench/README.md).
class RelayChunk {
 public:
  static constexpr std::size_t kSize = 64 * 1024;

  RelayChunk() : data_(acquire()) {}
  ~RelayChunk() { release(std::move(data_)); }
  RelayChunk(const RelayChunk&) = delete;
  RelayChunk& operator=(const RelayChunk&) = delete;

  char* data() { return data_.get(); }

 private:
  static constexpr std::size_t kKeptPerThread = 8;
  using Block = std::unique_ptr<char[]>;

  static std::vector<Block>& spare() {
    thread_local std::vector<Block> blocks;
    return blocks;
  }
  static Block acquire() {
    auto& blocks = spare();
    if (blocks.empty()) return std::make_unique_for_overwrite<char[]>(kSize);
    Block block = std::move(blocks.back());
    blocks.pop_back();
    return block;
  }
  static void release(Block block) {
    auto& blocks = spare();
    if (block && blocks.size() < kKeptPerThread) blocks.push_back(std::move(block));
  }

  Block data_;
};

template <bool isRequest, class InStream, class OutStream>
class BodyRelay : public std::enable_shared_from_this<BodyRelay<isRequest, InStream, OutStream>> {
 public:
  using Parser = bhttp::parser<isRequest, bhttp::buffer_body>;
  using Done = std::function<void(beast::error_code)>;

  // `in`, `in_buffer`, `parser` and `out` must outlive the relay.
  BodyRelay(InStream& in, beast::flat_buffer& in_buffer, Parser& parser, OutStream& out, Done done)
      : in_(in),
        in_buffer_(in_buffer),
        parser_(parser),
        out_(out),
        serializer_(parser.get()),
        done_(std::move(done)) {}

  void start() { step(); }

 private:
  void step() {
    auto& body = parser_.get().body();
    if (parser_.is_done()) {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
      return write();
    }
    // Allocated only here: a message without a body never reads.
    if (!chunk_) chunk_.emplace();
    body.data = chunk_->data();
    body.size = RelayChunk::kSize;
    // Beast reads max(512, free capacity) bytes per recv: a buffer that only
    // ever held a header would take a 100 KiB body in ~200 reads and writes.
    // A body already wholly buffered (a small response) needs no room.
    auto remaining = parser_.content_length_remaining();
    if (!remaining || *remaining > in_buffer_.size()) in_buffer_.reserve(RelayChunk::kSize);
    // One read, then forward whatever arrived: the body streams through
    // instead of waiting for chunk_ to fill.
    bhttp::async_read_some(in_, in_buffer_, parser_,
                           [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec == bhttp::error::need_buffer) ec = {};
                             if (ec) return self->done_(ec);
                             auto& b = self->parser_.get().body();
                             b.size = RelayChunk::kSize - b.size;
                             b.data = self->chunk_->data();
                             b.more = !self->parser_.is_done();
                             // A read that only consumed framing (a chunk header)
                             // has nothing to forward; a zero-size buffer would
                             // make the serializer write the terminating chunk.
                             if (b.size == 0 && b.more) return self->step();
                             self->write();
                           });
  }

  void write() {
    bhttp::async_write(out_, serializer_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec == bhttp::error::need_buffer) ec = {};
                         if (ec) return self->done_(ec);
                         if (self->serializer_.is_done()) return self->done_({});
                         self->step();
                       });
  }

  InStream& in_;
  beast::flat_buffer& in_buffer_;
  Parser& parser_;
  OutStream& out_;
  bhttp::serializer<isRequest, bhttp::buffer_body> serializer_;
  Done done_;
  std::optional<RelayChunk> chunk_;
};

template <bool isRequest, class InStream, class OutStream>
void relay_body(InStream& in, beast::flat_buffer& in_buffer,
                bhttp::parser<isRequest, bhttp::buffer_body>& parser, OutStream& out,
                std::function<void(beast::error_code)> done) {
  std::make_shared<BodyRelay<isRequest, InStream, OutStream>>(in, in_buffer, parser, out,
                                                              std::move(done))
      ->start();
}

}  // namespace blockyard::proxy
