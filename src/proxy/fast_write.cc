#include "proxy/fast_write.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace blockyard::proxy {

namespace bhttp = boost::beast::http;

namespace {

void append(std::string& out, boost::beast::string_view text) {
  out.append(text.data(), text.size());
}

void append_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_fields(std::string& out, const bhttp::fields& fields) {
  for (const auto& field : fields) {
    append(out, field.name_string());
    out += ": ";
    append(out, field.value());
    out += "\r\n";
  }
}

}  // namespace

void append_wire_header_lines(const bhttp::request_header<>& header, std::string& out) {
  append(out, header.method_string());
  out += ' ';
  append(out, header.target());
  out += ' ';
  append_version(out, header.version());
  out += "\r\n";
  append_fields(out, header);
}

void append_wire_header_lines(const bhttp::response_header<>& header, std::string& out) {
  append_version(out, header.version());
  const unsigned code = header.result_int();
  out += ' ';
  out += static_cast<char>('0' + code / 100 % 10);
  out += static_cast<char>('0' + code / 10 % 10);
  out += static_cast<char>('0' + code % 10);
  out += ' ';
  append(out, header.reason());
  out += "\r\n";
  append_fields(out, header);
}

std::size_t send_now(int fd, std::span<const boost::asio::const_buffer> buffers,
                     boost::system::error_code& ec) {
  constexpr std::size_t kMaxIov = 8;
  std::array<iovec, kMaxIov> iov{};
  const std::size_t count = std::min(buffers.size(), kMaxIov);
  for (std::size_t i = 0; i < count; ++i) {
    iov[i].iov_base = const_cast<void*>(buffers[i].data());
    iov[i].iov_len = buffers[i].size();
  }
  msghdr message{};
  message.msg_iov = iov.data();
  message.msg_iovlen = count;
  for (;;) {
    const ssize_t sent = ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<std::size_t>(sent);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    ec.assign(errno, boost::system::system_category());
    return 0;
  }
}

}  // namespace blockyard::proxy
