// Randomness, hashing and identifiers, all backed by OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace blockyard {

// `n` bytes from the OpenSSL CSPRNG. Throws std::runtime_error on failure.
std::string random_bytes(std::size_t n);

// SHA-256 of `data`, 32 raw bytes.
std::string sha256(std::string_view data);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Lower-case hex SHA-256 of a file's content, read in blocks. Throws
// std::runtime_error naming the file when it cannot be read.
std::string sha256_file_hex(const std::string& path);

// HMAC-SHA256(key, data), raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Random RFC 4122 version-4 UUID, lower-case canonical form.
std::string uuid_v4();

bool is_uuid(std::string_view text);

// Base62 (0-9A-Za-z) encoding of arbitrary bytes, big-endian.
std::string base62_encode(std::string_view bytes);

// Constant-time equality for secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace blockyard
