// relay_body(): streams an HTTP message body from one stream to another
// through a fixed buffer, without holding the whole body in memory (the
// asynchronous form of Boost.Beast's relay example). The header must already
// be read into `parser` and transformed; the serializer writes it first.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>

namespace blockyard::proxy {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

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
    body.data = chunk_;
    body.size = sizeof(chunk_);
    // Beast reads max(512, free capacity) bytes per recv: a buffer that only
    // ever held a header would take a 100 KiB body in ~200 reads and writes.
    // (Only here: a message without a body never reads.)
    in_buffer_.reserve(sizeof(chunk_));
    // One read, then forward whatever arrived: the body streams through
    // instead of waiting for chunk_ to fill.
    bhttp::async_read_some(in_, in_buffer_, parser_,
                           [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec == bhttp::error::need_buffer) ec = {};
                             if (ec) return self->done_(ec);
                             auto& b = self->parser_.get().body();
                             b.size = sizeof(self->chunk_) - b.size;
                             b.data = self->chunk_;
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
  char chunk_[64 * 1024];
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
