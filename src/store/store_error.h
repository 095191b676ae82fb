// StoreError: a write the store refused for a reason the caller can act on.
// Its kind says which; its message is written for the person who asked
// (the API shows it as is). Anything else (I/O, corruption) is a plain
// std::runtime_error.
#pragma once

#include <stdexcept>
#include <string>

namespace blockyard::store {

enum class StoreErrorKind {
  not_found,      // the row the call names does not exist (or is soft-deleted)
  conflict,       // a unique value (name, token hash, id) is already taken
  name_reserved,  // the name still serves a renamed app as its alias
};

class StoreError : public std::runtime_error {
 public:
  StoreError(StoreErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  StoreErrorKind kind() const { return kind_; }

  static StoreError not_found(const std::string& m) { return {StoreErrorKind::not_found, m}; }
  static StoreError conflict(const std::string& m) { return {StoreErrorKind::conflict, m}; }
  static StoreError name_reserved(const std::string& m) {
    return {StoreErrorKind::name_reserved, m};
  }

 private:
  StoreErrorKind kind_;
};

}  // namespace blockyard::store
