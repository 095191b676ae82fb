#include "store/sqlite_migrations.h"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace blockyard::store {
namespace {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// Append-only: never edit a released entry, add a new one instead.
constexpr std::array kMigrations = {
    Migration{1, "core tables: users, personal access tokens, apps, bundles", R"sql(
CREATE TABLE users (
  sub        TEXT PRIMARY KEY,
  email      TEXT NOT NULL DEFAULT '',
  name       TEXT NOT NULL DEFAULT '',
  role       TEXT NOT NULL DEFAULT 'viewer',
  active     INTEGER NOT NULL DEFAULT 1,
  last_login TEXT
);

CREATE TABLE personal_access_tokens (
  id           TEXT PRIMARY KEY,
  token_hash   TEXT NOT NULL UNIQUE,
  user_sub     TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT,
  last_used_at TEXT,
  revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_pats_user_sub ON personal_access_tokens(user_sub);

CREATE TABLE apps (
  id                      TEXT PRIMARY KEY,
  name                    TEXT NOT NULL,
  owner                   TEXT NOT NULL DEFAULT 'admin',
  access_type             TEXT NOT NULL DEFAULT 'acl'
                            CHECK (access_type IN ('acl', 'logged_in', 'public')),
  active_bundle           TEXT REFERENCES bundles(id) ON DELETE SET NULL,
  max_workers_per_app     INTEGER,
  max_sessions_per_worker INTEGER NOT NULL DEFAULT 1,
  memory_limit            TEXT,
  cpu_limit               REAL,
  title                   TEXT,
  description             TEXT,
  pre_warmed_sessions     INTEGER NOT NULL DEFAULT 0,
  enabled                 INTEGER NOT NULL DEFAULT 1,
  refresh_schedule        TEXT NOT NULL DEFAULT '',
  image                   TEXT NOT NULL DEFAULT '',
  runtime                 TEXT NOT NULL DEFAULT '',
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL,
  deleted_at              TEXT
);
-- A soft-deleted app gives its name back.
CREATE UNIQUE INDEX idx_apps_name_live ON apps(name) WHERE deleted_at IS NULL;
CREATE INDEX idx_apps_updated_at ON apps(updated_at);

CREATE TABLE bundles (
  id          TEXT PRIMARY KEY,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'building', 'ready', 'failed')),
  uploaded_at TEXT NOT NULL,
  deployed_by TEXT,
  deployed_at TEXT,
  pinned      INTEGER NOT NULL DEFAULT 0,
  error       TEXT
);
CREATE INDEX idx_bundles_app_id ON bundles(app_id, uploaded_at);
CREATE INDEX idx_bundles_status ON bundles(status);
)sql"},
    Migration{2, "app_aliases: former names of renamed apps", R"sql(
CREATE TABLE app_aliases (
  name       TEXT PRIMARY KEY,
  app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  phase      TEXT NOT NULL CHECK (phase IN ('alias', 'redirect')),
  expires_at TEXT NOT NULL
);
CREATE INDEX idx_app_aliases_app_id ON app_aliases(app_id);
)sql"},
    Migration{3, "app_access grants (users and groups), user_sessions for browser sign-in", R"sql(
CREATE TABLE app_access (
  app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  principal  TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('user', 'group')),
  role       TEXT NOT NULL CHECK (role IN ('viewer', 'collaborator')),
  granted_by TEXT NOT NULL,
  granted_at TEXT NOT NULL,
  PRIMARY KEY (app_id, principal, kind)
);
CREATE INDEX idx_app_access_principal ON app_access(kind, principal);

CREATE TABLE user_sessions (
  id               TEXT PRIMARY KEY,
  sub              TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
  groups_json      TEXT NOT NULL DEFAULT '[]',
  access_token     TEXT NOT NULL DEFAULT '',
  refresh_token    TEXT NOT NULL DEFAULT '',
  id_token         TEXT NOT NULL DEFAULT '',
  token_expires_at TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  expires_at       TEXT NOT NULL
);
CREATE INDEX idx_user_sessions_sub ON user_sessions(sub);
CREATE INDEX idx_user_sessions_expires_at ON user_sessions(expires_at);
)sql"},
};

void ensure_version_table(SqliteDb& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER NOT NULL PRIMARY KEY, dirty INTEGER NOT NULL)");
}

void check_usable(const SchemaVersion& current) {
  if (current.dirty) {
    throw std::runtime_error("sqlite: database schema is dirty at version " +
                             std::to_string(current.version) +
                             " (a migration failed half way); repair it by hand");
  }
  if (current.version > latest_sqlite_schema_version()) {
    throw std::runtime_error("sqlite: database schema version " + std::to_string(current.version) +
                             " is newer than this server supports (" +
                             std::to_string(latest_sqlite_schema_version()) + ")");
  }
}

}  // namespace

int latest_sqlite_schema_version() {
  return kMigrations.back().version;
}

SchemaVersion read_sqlite_schema_version(SqliteDb& db) {
  Statement exists(db,
                   "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                   "'schema_migrations'");
  if (!exists.step()) return {};
  Statement row(db, "SELECT version, dirty FROM schema_migrations ORDER BY version DESC LIMIT 1");
  if (!row.step()) return {};
  return {row.int32(0), row.boolean(1)};
}

void migrate_sqlite(SqliteDb& db) {
  ensure_version_table(db);
  check_usable(read_sqlite_schema_version(db));
  for (const auto& migration : kMigrations) {
    Transaction tx(db);
    // Re-read under the write lock: another process may have migrated meanwhile.
    SchemaVersion current = read_sqlite_schema_version(db);
    check_usable(current);
    if (current.version >= migration.version) continue;
    if (current.version != migration.version - 1) {
      throw std::runtime_error("sqlite: migration " + std::to_string(migration.version) +
                               " found the schema at version " + std::to_string(current.version));
    }
    try {
      db.exec(migration.sql);
    } catch (const SqliteError& e) {
      throw std::runtime_error("sqlite: migration " + std::to_string(migration.version) + " (" +
                               std::string(migration.description) + ") failed: " + e.what());
    }
    db.exec("DELETE FROM schema_migrations");
    Statement bump(db, "INSERT INTO schema_migrations (version, dirty) VALUES (?, 0)");
    bump.bind(1, migration.version).run();
    tx.commit();
  }
}

}  // namespace blockyard::store
