// Thin RAII layer over the SQLite C API: a connection (SqliteDb), a prepared
// statement (Statement) and a transaction guard (Transaction).
//
// Thread safety: none. The owner (SqliteStore) serialises all use of one
// connection behind its own mutex.
// Failure: every SQLite error throws SqliteError (a std::runtime_error) that
// carries the extended result code and the database's message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace blockyard::store {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}

  // Extended result code, e.g. SQLITE_CONSTRAINT_UNIQUE.
  int code() const { return code_; }
  bool is_unique_violation() const {
    return code_ == SQLITE_CONSTRAINT_UNIQUE || code_ == SQLITE_CONSTRAINT_PRIMARYKEY;
  }
  bool is_foreign_key_violation() const { return code_ == SQLITE_CONSTRAINT_FOREIGNKEY; }

 private:
  int code_;
};

// One open connection. Move-only; closes on destruction.
class SqliteDb {
 public:
  // Opens (creating if needed) the database file. Throws SqliteError.
  explicit SqliteDb(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows of interest.
  void exec(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const;
  sqlite3* handle() const { return db_; }

  // Throws SqliteError for `rc` with the connection's current message.
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement. Parameters are 1-based, columns 0-based (as in SQLite).
class Statement {
 public:
  Statement(SqliteDb& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, bool value) { return bind(index, value ? 1 : 0); }
  Statement& bind(int index, double value);
  Statement& bind_null(int index);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Advances to the next row: true if a row is available, false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  bool is_null(int column) const;
  std::string text(int column) const;
  std::int64_t int64(int column) const;
  int int32(int column) const { return static_cast<int>(int64(column)); }
  double real(int column) const;
  bool boolean(int column) const { return int64(column) != 0; }
  std::optional<std::string> optional_text(int column) const;
  std::optional<int> optional_int(int column) const;
  std::optional<double> optional_real(int column) const;

 private:
  SqliteDb& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit()ed.
// IMMEDIATE takes the write lock up front so a transaction never fails half
// way with SQLITE_BUSY when another process holds the database.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  SqliteDb& db_;
  bool done_ = false;
};

}  // namespace blockyard::store
