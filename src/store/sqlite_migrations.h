// Schema migrations for the SQLite store, kept in the code as an ordered list
// of numbered SQL scripts. The applied version lives in the golang-migrate
// shaped table schema_migrations(version, dirty) (one row).
//
// Failure: a dirty database, or one whose version is newer than this build
// knows, is refused with std::runtime_error rather than guessed at.
#pragma once

#include "store/sqlite_db.h"

namespace blockyard::store {

struct SchemaVersion {
  int version = 0;  // 0 = empty database
  bool dirty = false;
};

// The highest migration number this build carries.
int latest_sqlite_schema_version();

// Reads schema_migrations; {0, false} when the table or its row is missing.
SchemaVersion read_sqlite_schema_version(SqliteDb& db);

// Applies every pending migration, each in its own transaction together with
// its version bump, so a crash never leaves a half-applied step behind.
// Safe against another process migrating the same file concurrently.
void migrate_sqlite(SqliteDb& db);

}  // namespace blockyard::store
