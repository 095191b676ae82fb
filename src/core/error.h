// ApiError: a failure with an HTTP meaning. Services throw it; the API layer
// renders it as {"error": code, "message": message} with `status`.
#pragma once

#include <stdexcept>
#include <string>

namespace blockyard {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }

  static ApiError bad_request(const std::string& m) { return {400, "bad_request", m}; }
  static ApiError unauthorized(const std::string& m) { return {401, "unauthorized", m}; }
  static ApiError forbidden(const std::string& m) { return {403, "forbidden", m}; }
  static ApiError not_found(const std::string& m) { return {404, "not_found", m}; }
  static ApiError conflict(const std::string& m) { return {409, "conflict", m}; }
  static ApiError gone(const std::string& m) { return {410, "gone", m}; }
  static ApiError payload_too_large(const std::string& m) {
    return {413, "payload_too_large", m};
  }
  static ApiError not_implemented(const std::string& m) { return {501, "not_implemented", m}; }
  static ApiError unavailable(const std::string& m) { return {503, "service_unavailable", m}; }

 private:
  int status_;
  std::string code_;
};

}  // namespace blockyard
