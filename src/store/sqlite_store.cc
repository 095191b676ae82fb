// SqliteStore: the embedded Store. One connection, every call serialised by a
// mutex (SQLite allows one writer anyway, and our queries are short).
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/crypto.h"
#include "store/alias_phase.h"
#include "store/sqlite_db.h"
#include "store/sqlite_migrations.h"
#include "store/store.h"
#include "store/timestamp.h"

namespace blockyard::store {
namespace {

constexpr std::string_view kAppColumns =
    "id, name, owner, access_type, active_bundle, max_workers_per_app, "
    "max_sessions_per_worker, memory_limit, cpu_limit, title, description, "
    "pre_warmed_sessions, enabled, refresh_schedule, image, runtime, created_at, "
    "updated_at, deleted_at";

constexpr std::string_view kBundleColumns =
    "id, app_id, status, uploaded_at, deployed_by, deployed_at, pinned, error";

constexpr std::string_view kPatColumns =
    "id, user_sub, name, token_hash, created_at, expires_at, last_used_at, revoked";

constexpr std::string_view kUserColumns = "sub, email, name, role, active, last_login";

constexpr std::string_view kGrantColumns = "app_id, principal, kind, role, granted_by, granted_at";

constexpr std::string_view kSessionColumns =
    "id, sub, groups_json, access_token, refresh_token, id_token, token_expires_at, created_at, "
    "expires_at";

std::string sql(std::string_view head, std::string_view columns, std::string_view tail) {
  return std::string(head) + std::string(columns) + std::string(tail);
}

App read_app(const Statement& row) {
  App app;
  app.id = row.text(0);
  app.name = row.text(1);
  app.owner = row.text(2);
  app.access_type = row.text(3);
  app.active_bundle = row.optional_text(4);
  app.max_workers_per_app = row.optional_int(5);
  app.max_sessions_per_worker = row.int32(6);
  app.memory_limit = row.optional_text(7);
  app.cpu_limit = row.optional_real(8);
  app.title = row.optional_text(9);
  app.description = row.optional_text(10);
  app.pre_warmed_sessions = row.int32(11);
  app.enabled = row.boolean(12);
  app.refresh_schedule = row.text(13);
  app.image = row.text(14);
  app.runtime = row.text(15);
  app.created_at = row.text(16);
  app.updated_at = row.text(17);
  app.deleted_at = row.optional_text(18);
  return app;
}

Bundle read_bundle(const Statement& row) {
  Bundle bundle;
  bundle.id = row.text(0);
  bundle.app_id = row.text(1);
  bundle.status = row.text(2);
  bundle.uploaded_at = row.text(3);
  bundle.deployed_by = row.optional_text(4);
  bundle.deployed_at = row.optional_text(5);
  bundle.pinned = row.boolean(6);
  bundle.error = row.optional_text(7);
  return bundle;
}

PersonalAccessToken read_pat(const Statement& row) {
  PersonalAccessToken pat;
  pat.id = row.text(0);
  pat.user_sub = row.text(1);
  pat.name = row.text(2);
  pat.token_hash = row.text(3);
  pat.created_at = row.text(4);
  pat.expires_at = row.optional_text(5);
  pat.last_used_at = row.optional_text(6);
  pat.revoked = row.boolean(7);
  return pat;
}

User read_user(const Statement& row) {
  User user;
  user.sub = row.text(0);
  user.email = row.text(1);
  user.name = row.text(2);
  user.role = row.text(3);
  user.active = row.boolean(4);
  user.last_login = row.optional_text(5);
  return user;
}

AccessGrant read_grant(const Statement& row) {
  return AccessGrant{row.text(0), row.text(1), row.text(2), row.text(3), row.text(4), row.text(5)};
}

std::string groups_to_json(const std::vector<std::string>& groups) {
  return nlohmann::json(groups).dump();
}

std::vector<std::string> groups_from_json(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> groups;
  if (!parsed.is_array()) return groups;
  for (const auto& g : parsed) {
    if (g.is_string()) groups.push_back(g.get<std::string>());
  }
  return groups;
}

UserSession read_session(const Statement& row) {
  UserSession s;
  s.id = row.text(0);
  s.sub = row.text(1);
  s.groups = groups_from_json(row.text(2));
  s.access_token = row.text(3);
  s.refresh_token = row.text(4);
  s.id_token = row.text(5);
  s.token_expires_at = row.text(6);
  s.created_at = row.text(7);
  s.expires_at = row.text(8);
  return s;
}

// Runs a write, turning constraint violations into the store's typed errors:
// a duplicate key is a conflict, a missing parent row is not found. An empty
// message means that violation cannot happen there, so it stays a raw error.
void run_write(Statement& write, const std::string& on_duplicate,
               const std::string& on_missing_parent = {}) {
  try {
    write.run();
  } catch (const SqliteError& e) {
    if (!on_duplicate.empty() && e.is_unique_violation()) throw StoreError::conflict(on_duplicate);
    if (!on_missing_parent.empty() && e.is_foreign_key_violation())
      throw StoreError::not_found(on_missing_parent);
    throw;
  }
}

// LIKE pattern matching `needle` anywhere, with LIKE's own metacharacters
// taken literally (paired with ESCAPE '\').
std::string contains_pattern(std::string_view needle) {
  std::string pattern = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  pattern.push_back('%');
  return pattern;
}

// The SET list of a field-level UPDATE: only the columns a caller set, bound
// in order. Column names come from code, never from input.
class Assignments {
 public:
  template <class T>
  void add(std::string_view column, const std::optional<T>& field) {
    if (field) items_.emplace_back(column, value_of(*field));
  }
  std::string sql() const {
    std::string out;
    for (const auto& [column, value] : items_) {
      if (!out.empty()) out += ", ";
      out += std::string(column) + " = ?";
    }
    return out;
  }
  // Binds the values from parameter 1 on; returns the next free index.
  int bind(Statement& statement) const {
    int index = 1;
    for (const auto& [column, value] : items_) {
      std::visit(
          [&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::nullptr_t>) {
              statement.bind_null(index);
            } else {
              statement.bind(index, v);
            }
          },
          value);
      ++index;
    }
    return index;
  }

 private:
  using Value = std::variant<std::nullptr_t, std::string, std::int64_t, double>;
  static Value value_of(const std::string& v) { return v; }
  static Value value_of(int v) { return std::int64_t{v}; }
  static Value value_of(bool v) { return std::int64_t{v ? 1 : 0}; }
  static Value value_of(double v) { return v; }
  template <class T>
  static Value value_of(const std::optional<T>& v) {
    return v ? value_of(*v) : Value(nullptr);
  }
  std::vector<std::pair<std::string_view, Value>> items_;
};

// mkdir -p with mode 0700 for the directories it creates: the database holds
// user data and token hashes.
void create_private_parents(const std::filesystem::path& file) {
  std::filesystem::path parent = file.parent_path();
  if (parent.empty()) return;
  std::filesystem::path partial;
  for (const auto& part : parent) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      throw std::system_error(errno, std::generic_category(),
                              "sqlite: create directory " + partial.string());
    }
  }
  if (!std::filesystem::is_directory(parent)) {
    throw std::runtime_error("sqlite: " + parent.string() + " is not a directory");
  }
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) : db_(path) {
    db_.exec("PRAGMA foreign_keys = ON");
    db_.exec("PRAGMA busy_timeout = 5000");
    // WAL lets readers in other processes (backups, sqlite3 CLI) proceed
    // during writes; NORMAL sync is durable across crashes in WAL mode.
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("PRAGMA synchronous = NORMAL");
    migrate_sqlite(db_);
    sqlite3_update_hook(db_.handle(), &SqliteStore::count_change, this);
  }

  ~SqliteStore() override { sqlite3_update_hook(db_.handle(), nullptr, nullptr); }

  std::uint64_t change_count() const override { return changes_.load(); }

  void ping() override {
    std::lock_guard lock(mu_);
    Statement(db_, "SELECT 1").run();
  }

  // ---- Users ----

  void upsert_user(const User& user) override {
    std::lock_guard lock(mu_);
    Statement insert(db_,
                     "INSERT INTO users (sub, email, name, role, active, last_login) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(sub) DO UPDATE SET "
                     "email = excluded.email, name = excluded.name, role = excluded.role, "
                     "active = excluded.active, last_login = excluded.last_login");
    insert.bind(1, user.sub)
        .bind(2, user.email)
        .bind(3, user.name)
        .bind(4, user.role)
        .bind(5, user.active)
        .bind(6, user.last_login)
        .run();
  }

  std::optional<User> get_user(const std::string& sub) override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kUserColumns, " FROM users WHERE sub = ?"));
    query.bind(1, sub);
    if (!query.step()) return std::nullopt;
    return read_user(query);
  }

  std::vector<User> list_users() override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kUserColumns,
                             " FROM users ORDER BY last_login IS NULL, last_login DESC, sub"));
    std::vector<User> users;
    while (query.step()) users.push_back(read_user(query));
    return users;
  }

  User record_login(const std::string& sub, const std::string& email, const std::string& name,
                    const std::string& role_if_new, const std::string& now) override {
    std::lock_guard lock(mu_);
    Statement upsert(db_,
                     sql("INSERT INTO users (sub, email, name, role, active, last_login) "
                         "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(sub) DO UPDATE SET "
                         "email = CASE WHEN excluded.email = '' THEN email "
                         "ELSE excluded.email END, "
                         "name = CASE WHEN excluded.name = '' THEN name ELSE excluded.name END, "
                         "last_login = excluded.last_login RETURNING ",
                         kUserColumns, ""));
    upsert.bind(1, sub).bind(2, email).bind(3, name).bind(4, role_if_new).bind(5, now);
    if (!upsert.step()) throw std::runtime_error("sqlite: record_login returned no row");
    User user = read_user(upsert);
    while (upsert.step()) {
    }
    return user;
  }

  std::optional<User> update_user(const std::string& sub, const std::optional<std::string>& role,
                                  const std::optional<bool>& active) override {
    std::lock_guard lock(mu_);
    Statement update(db_, sql("UPDATE users SET role = COALESCE(?, role), "
                              "active = COALESCE(?, active) WHERE sub = ? RETURNING ",
                              kUserColumns, ""));
    update.bind(1, role).bind(2, active).bind(3, sub);
    if (!update.step()) return std::nullopt;
    User user = read_user(update);
    while (update.step()) {
    }
    return user;
  }

  // ---- Personal access tokens ----

  void create_pat(const PersonalAccessToken& pat) override {
    std::lock_guard lock(mu_);
    insert_pat_locked(pat);
  }

  std::optional<PersonalAccessToken> find_pat_by_hash(const std::string& hash) override {
    std::lock_guard lock(mu_);
    Statement query(
        db_, sql("SELECT ", kPatColumns, " FROM personal_access_tokens WHERE token_hash = ?"));
    query.bind(1, hash);
    if (!query.step()) return std::nullopt;
    return read_pat(query);
  }

  std::vector<PersonalAccessToken> list_pats(const std::string& user_sub) override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kPatColumns,
                             " FROM personal_access_tokens WHERE user_sub = ? AND revoked = 0 "
                             "ORDER BY created_at DESC, rowid DESC"));
    query.bind(1, user_sub);
    std::vector<PersonalAccessToken> pats;
    while (query.step()) pats.push_back(read_pat(query));
    return pats;
  }

  bool revoke_pat(const std::string& user_sub, const std::string& id) override {
    std::lock_guard lock(mu_);
    Statement update(db_,
                     "UPDATE personal_access_tokens SET revoked = 1 WHERE id = ? AND user_sub = ?");
    update.bind(1, id).bind(2, user_sub).run();
    return db_.changes() > 0;
  }

  void touch_pat(const std::string& id, const std::string& now) override {
    std::lock_guard lock(mu_);
    Statement update(db_, "UPDATE personal_access_tokens SET last_used_at = ? WHERE id = ?");
    update.bind(1, now).bind(2, id).run();
  }

  int revoke_all_pats(const std::string& user_sub) override {
    std::lock_guard lock(mu_);
    Statement update(db_,
                     "UPDATE personal_access_tokens SET revoked = 1 "
                     "WHERE user_sub = ? AND revoked = 0");
    update.bind(1, user_sub).run();
    return db_.changes();
  }

  bool redeem_bootstrap(const PersonalAccessToken& burn, const PersonalAccessToken& pat) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    Statement burned(db_, "SELECT 1 FROM personal_access_tokens WHERE token_hash = ?");
    burned.bind(1, burn.token_hash);
    if (burned.step()) return false;
    insert_pat_locked(burn);
    insert_pat_locked(pat);
    tx.commit();
    return true;
  }

  // ---- Access grants ----

  void grant_access(const AccessGrant& grant) override {
    std::lock_guard lock(mu_);
    Statement insert(db_, sql("INSERT INTO app_access (", kGrantColumns,
                              ") VALUES (?, ?, ?, ?, ?, ?) "
                              "ON CONFLICT(app_id, principal, kind) DO UPDATE SET "
                              "role = excluded.role, granted_by = excluded.granted_by, "
                              "granted_at = excluded.granted_at"));
    insert.bind(1, grant.app_id)
        .bind(2, grant.principal)
        .bind(3, grant.kind)
        .bind(4, grant.role)
        .bind(5, grant.granted_by)
        .bind(6, grant.granted_at);
    run_write(insert, {}, "app not found");
  }

  std::vector<AccessGrant> list_access(const std::string& app_id) override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kGrantColumns,
                             " FROM app_access WHERE app_id = ? "
                             "ORDER BY kind = 'group', principal"));
    query.bind(1, app_id);
    std::vector<AccessGrant> grants;
    while (query.step()) grants.push_back(read_grant(query));
    return grants;
  }

  bool revoke_access(const std::string& app_id, const std::string& kind,
                     const std::string& principal) override {
    std::lock_guard lock(mu_);
    Statement remove(db_, "DELETE FROM app_access WHERE app_id = ? AND kind = ? AND principal = ?");
    remove.bind(1, app_id).bind(2, kind).bind(3, principal).run();
    return db_.changes() > 0;
  }

  // ---- Browser sessions ----

  void create_session(const UserSession& session) override {
    std::lock_guard lock(mu_);
    Statement insert(db_, sql("INSERT INTO user_sessions (", kSessionColumns,
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    insert.bind(1, session.id)
        .bind(2, session.sub)
        .bind(3, groups_to_json(session.groups))
        .bind(4, session.access_token)
        .bind(5, session.refresh_token)
        .bind(6, session.id_token)
        .bind(7, session.token_expires_at)
        .bind(8, session.created_at)
        .bind(9, session.expires_at);
    run_write(insert, "session already exists", "user not found");
  }

  std::optional<UserSession> get_session(const std::string& id) override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kSessionColumns, " FROM user_sessions WHERE id = ?"));
    query.bind(1, id);
    if (!query.step()) return std::nullopt;
    return read_session(query);
  }

  bool update_session_tokens(const std::string& id, const std::string& access_token,
                             const std::string& refresh_token,
                             const std::string& token_expires_at) override {
    std::lock_guard lock(mu_);
    Statement update(db_,
                     "UPDATE user_sessions SET access_token = ?, "
                     "refresh_token = CASE WHEN ? = '' THEN refresh_token ELSE ? END, "
                     "token_expires_at = ? WHERE id = ?");
    update.bind(1, access_token)
        .bind(2, refresh_token)
        .bind(3, refresh_token)
        .bind(4, token_expires_at)
        .bind(5, id)
        .run();
    return db_.changes() > 0;
  }

  bool delete_session(const std::string& id) override {
    std::lock_guard lock(mu_);
    Statement(db_, "DELETE FROM user_sessions WHERE id = ?").bind(1, id).run();
    return db_.changes() > 0;
  }

  int delete_user_sessions(const std::string& sub) override {
    std::lock_guard lock(mu_);
    Statement(db_, "DELETE FROM user_sessions WHERE sub = ?").bind(1, sub).run();
    return db_.changes();
  }

  std::vector<std::string> delete_expired_sessions(const std::string& now) override {
    std::lock_guard lock(mu_);
    Statement remove(db_, "DELETE FROM user_sessions WHERE expires_at <= ? RETURNING id");
    remove.bind(1, now);
    std::vector<std::string> ids;
    while (remove.step()) ids.push_back(remove.text(0));
    return ids;
  }

  // ---- Apps ----

  App create_app(const std::string& name, const std::string& owner,
                 const std::string& now) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    claim_name_locked(name, "", now);
    App app;
    app.id = uuid_v4();
    app.name = name;
    app.owner = owner;
    app.created_at = app.updated_at = now;
    Statement insert(db_,
                     "INSERT INTO apps (id, name, owner, access_type, max_sessions_per_worker, "
                     "pre_warmed_sessions, enabled, refresh_schedule, image, runtime, "
                     "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', ?, ?)");
    insert.bind(1, app.id)
        .bind(2, app.name)
        .bind(3, app.owner)
        .bind(4, app.access_type)
        .bind(5, app.max_sessions_per_worker)
        .bind(6, app.pre_warmed_sessions)
        .bind(7, app.enabled)
        .bind(8, app.created_at)
        .bind(9, app.updated_at);
    run_write(insert, name_taken_message(name));
    tx.commit();
    return app;
  }

  std::optional<App> get_app(const std::string& id) override {
    std::lock_guard lock(mu_);
    Statement query(db_,
                    sql("SELECT ", kAppColumns, " FROM apps WHERE id = ? AND deleted_at IS NULL"));
    query.bind(1, id);
    if (!query.step()) return std::nullopt;
    return read_app(query);
  }

  std::optional<App> get_app_by_name(const std::string& name) override {
    std::lock_guard lock(mu_);
    Statement query(
        db_, sql("SELECT ", kAppColumns, " FROM apps WHERE name = ? AND deleted_at IS NULL"));
    query.bind(1, name);
    if (!query.step()) return std::nullopt;
    return read_app(query);
  }

  AppListResult list_apps(const AppListQuery& q) override {
    // Each filter is switched off by its own parameter, so the SQL stays static.
    static constexpr std::string_view kWhere =
        " FROM apps WHERE deleted_at IS NULL"
        " AND (?1 = '' OR name LIKE ?2 ESCAPE '\\' OR title LIKE ?2 ESCAPE '\\'"
        "      OR description LIKE ?2 ESCAPE '\\')"
        " AND (?3 IS NULL OR owner = ?3 OR access_type IN ('logged_in', 'public')"
        "      OR EXISTS (SELECT 1 FROM app_access g WHERE g.app_id = apps.id AND"
        "        ((g.kind = 'user' AND g.principal = ?3) OR"
        "         (g.kind = 'group' AND g.principal IN (SELECT value FROM json_each(?6))))))";
    int per_page = q.per_page > 0 ? q.per_page : 25;
    int page = q.page > 0 ? q.page : 1;
    std::string pattern = contains_pattern(q.search);
    std::optional<std::string> viewer;
    std::string groups = "[]";
    if (q.visible_to) {
      viewer = q.visible_to->sub;
      groups = groups_to_json(q.visible_to->groups);
    }

    std::lock_guard lock(mu_);
    AppListResult result;
    Statement count(db_, sql("SELECT COUNT(*)", kWhere, ""));
    count.bind(1, q.search).bind(2, pattern).bind(3, viewer).bind(6, groups);
    if (count.step()) result.total = count.int32(0);

    Statement query(
        db_, sql("SELECT ", kAppColumns,
                 std::string(kWhere) + " ORDER BY updated_at DESC, created_at DESC, rowid DESC"
                                       " LIMIT ?4 OFFSET ?5"));
    query.bind(1, q.search)
        .bind(2, pattern)
        .bind(3, viewer)
        .bind(4, per_page)
        .bind(5, static_cast<std::int64_t>(page - 1) * per_page)
        .bind(6, groups);
    while (query.step()) result.apps.push_back(read_app(query));
    return result;
  }

  App update_app(const std::string& id, const AppUpdate& update, const std::string& now) override {
    Assignments set;
    set.add("owner", update.owner);
    set.add("access_type", update.access_type);
    set.add("max_workers_per_app", update.max_workers_per_app);
    set.add("max_sessions_per_worker", update.max_sessions_per_worker);
    set.add("memory_limit", update.memory_limit);
    set.add("cpu_limit", update.cpu_limit);
    set.add("title", update.title);
    set.add("description", update.description);
    set.add("pre_warmed_sessions", update.pre_warmed_sessions);
    set.add("enabled", update.enabled);
    set.add("refresh_schedule", update.refresh_schedule);
    set.add("image", update.image);
    set.add("runtime", update.runtime);
    set.add("updated_at", std::optional<std::string>(now));

    std::lock_guard lock(mu_);
    Transaction tx(db_);
    Statement statement(db_,
                        "UPDATE apps SET " + set.sql() + " WHERE id = ? AND deleted_at IS NULL");
    const int next = set.bind(statement);
    statement.bind(next, id).run();
    if (db_.changes() == 0) throw StoreError::not_found("app not found");
    Statement query(db_, sql("SELECT ", kAppColumns, " FROM apps WHERE id = ?"));
    query.bind(1, id);
    if (!query.step()) throw StoreError::not_found("app not found");
    App app = read_app(query);
    tx.commit();
    return app;
  }

  void delete_app(const std::string& id) override {
    std::lock_guard lock(mu_);
    // Bundles go with the app through ON DELETE CASCADE.
    Statement(db_, "DELETE FROM apps WHERE id = ?").bind(1, id).run();
  }

  bool soft_delete_app(const std::string& id, const std::string& now) override {
    std::lock_guard lock(mu_);
    Statement update(db_,
                     "UPDATE apps SET deleted_at = ?1, updated_at = ?1 "
                     "WHERE id = ?2 AND deleted_at IS NULL");
    update.bind(1, now).bind(2, id).run();
    return db_.changes() > 0;
  }

  App restore_app(const std::string& id, const std::string& now) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    Statement find(
        db_, sql("SELECT ", kAppColumns, " FROM apps WHERE id = ? AND deleted_at IS NOT NULL"));
    find.bind(1, id);
    if (!find.step()) throw StoreError::not_found("deleted app not found");
    App app = read_app(find);
    claim_name_locked(app.name, app.id, now);
    app.deleted_at.reset();
    app.updated_at = now;
    Statement update(db_, "UPDATE apps SET deleted_at = NULL, updated_at = ? WHERE id = ?");
    update.bind(1, app.updated_at).bind(2, id);
    run_write(update, name_taken_message(app.name));
    tx.commit();
    return app;
  }

  std::vector<App> list_deleted_apps(const std::optional<std::string>& deleted_before) override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kAppColumns,
                             " FROM apps WHERE deleted_at IS NOT NULL"
                             " AND (?1 IS NULL OR deleted_at < ?1)"
                             " ORDER BY deleted_at DESC, rowid DESC"));
    query.bind(1, deleted_before);
    std::vector<App> apps;
    while (query.step()) apps.push_back(read_app(query));
    return apps;
  }

  // ---- Renames ----

  void rename_app(const std::string& id, const std::string& new_name,
                  const std::string& now) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    Statement find(db_, "SELECT name FROM apps WHERE id = ? AND deleted_at IS NULL");
    find.bind(1, id);
    if (!find.step()) throw StoreError::not_found("app not found");
    std::string old_name = find.text(0);
    if (old_name == new_name) return;
    Statement taken(db_, "SELECT 1 FROM apps WHERE name = ? AND deleted_at IS NULL AND id <> ?");
    taken.bind(1, new_name).bind(2, id);
    if (taken.step()) throw StoreError::conflict("name already in use");
    claim_name_locked(new_name, id, now);
    // Housekeeping rides on renames: rows only ever appear here.
    expire_aliases_locked(now);

    auto expires = parse_rfc3339(now);
    if (!expires) throw std::invalid_argument("rename_app: bad timestamp " + now);
    Statement alias(db_,
                    "INSERT INTO app_aliases (name, app_id, phase, expires_at) "
                    "VALUES (?, ?, 'alias', ?) ON CONFLICT(name) DO UPDATE SET "
                    "app_id = excluded.app_id, phase = 'alias', expires_at = excluded.expires_at");
    alias.bind(1, old_name).bind(2, id).bind(3, format_rfc3339(*expires + kAliasPhase)).run();
    Statement update(db_, "UPDATE apps SET name = ?, updated_at = ? WHERE id = ?");
    update.bind(1, new_name).bind(2, now).bind(3, id);
    run_write(update, "name already in use");
    tx.commit();
  }

  std::optional<AppAlias> find_alias(const std::string& name, const std::string& now) override {
    std::lock_guard lock(mu_);
    return alias_locked(name, now);
  }

  int expire_aliases(const std::string& now) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    int changed = expire_aliases_locked(now);
    tx.commit();
    return changed;
  }

  // ---- Bundles ----

  void create_bundle(const Bundle& bundle) override {
    if (bundle.id.empty()) throw std::invalid_argument("create_bundle: empty bundle id");
    if (bundle.uploaded_at.empty()) throw std::invalid_argument("create_bundle: empty uploaded_at");
    std::lock_guard lock(mu_);
    Statement insert(
        db_, sql("INSERT INTO bundles (", kBundleColumns, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    insert.bind(1, bundle.id)
        .bind(2, bundle.app_id)
        .bind(3, bundle.status)
        .bind(4, bundle.uploaded_at)
        .bind(5, bundle.deployed_by)
        .bind(6, bundle.deployed_at)
        .bind(7, bundle.pinned)
        .bind(8, bundle.error);
    run_write(insert, "bundle already exists", "app not found");
  }

  std::optional<Bundle> get_bundle(const std::string& id) override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kBundleColumns, " FROM bundles WHERE id = ?"));
    query.bind(1, id);
    if (!query.step()) return std::nullopt;
    return read_bundle(query);
  }

  std::vector<Bundle> list_bundles(const std::string& app_id) override {
    std::lock_guard lock(mu_);
    Statement query(db_,
                    sql("SELECT ", kBundleColumns,
                        " FROM bundles WHERE app_id = ? ORDER BY uploaded_at DESC, rowid DESC"));
    query.bind(1, app_id);
    std::vector<Bundle> bundles;
    while (query.step()) bundles.push_back(read_bundle(query));
    return bundles;
  }

  void set_bundle_status(const std::string& id, const std::string& status,
                         const std::optional<std::string>& error) override {
    std::lock_guard lock(mu_);
    Statement update(db_, "UPDATE bundles SET status = ?, error = ? WHERE id = ?");
    update.bind(1, status).bind(2, error).bind(3, id).run();
    if (db_.changes() == 0) throw StoreError::not_found("bundle not found");
  }

  void activate_bundle(const std::string& app_id, const std::string& bundle_id,
                       const std::string& now) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    Statement bundle(db_,
                     "UPDATE bundles SET status = 'ready', deployed_at = ?, error = NULL "
                     "WHERE id = ? AND app_id = ?");
    bundle.bind(1, now).bind(2, bundle_id).bind(3, app_id).run();
    if (db_.changes() == 0) throw StoreError::not_found("bundle not found");
    Statement app(db_,
                  "UPDATE apps SET active_bundle = ?, updated_at = ? "
                  "WHERE id = ? AND deleted_at IS NULL");
    app.bind(1, bundle_id).bind(2, now).bind(3, app_id).run();
    if (db_.changes() == 0) throw StoreError::not_found("app not found");
    tx.commit();
  }

  int fail_interrupted_bundles() override {
    std::lock_guard lock(mu_);
    Statement update(
        db_,
        "UPDATE bundles SET status = 'failed', error = 'interrupted by server restart' "
        "WHERE status IN ('pending', 'building')");
    update.run();
    return db_.changes();
  }

  void reactivate_bundle(const std::string& app_id, const std::string& bundle_id,
                         const std::optional<std::string>& deployed_by,
                         const std::string& now) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    Statement bundle(db_,
                     "UPDATE bundles SET deployed_at = ?, deployed_by = ? "
                     "WHERE id = ? AND app_id = ? AND status = 'ready'");
    bundle.bind(1, now).bind(2, deployed_by).bind(3, bundle_id).bind(4, app_id).run();
    if (db_.changes() == 0) throw StoreError::not_found("bundle not found");
    Statement app(db_,
                  "UPDATE apps SET active_bundle = ?, updated_at = ? "
                  "WHERE id = ? AND deleted_at IS NULL");
    app.bind(1, bundle_id).bind(2, now).bind(3, app_id).run();
    if (db_.changes() == 0) throw StoreError::not_found("app not found");
    tx.commit();
  }

  bool delete_bundle(const std::string& id) override {
    std::lock_guard lock(mu_);
    Statement(db_, "DELETE FROM bundles WHERE id = ?").bind(1, id).run();
    return db_.changes() > 0;
  }

  std::optional<App> find_app_including_deleted(const std::string& id_or_name) override {
    std::lock_guard lock(mu_);
    Statement query(db_, sql("SELECT ", kAppColumns,
                             " FROM apps WHERE id = ?1 OR name = ?1"
                             " ORDER BY (id = ?1) DESC, deleted_at IS NULL,"
                             " deleted_at DESC, rowid DESC LIMIT 1"));
    query.bind(1, id_or_name);
    if (!query.step()) return std::nullopt;
    return read_app(query);
  }

  DeploymentListResult list_deployments(const DeploymentQuery& q) override {
    static constexpr std::string_view kFrom =
        " FROM bundles b JOIN apps a ON a.id = b.app_id"
        " LEFT JOIN users u ON u.sub = b.deployed_by"
        " WHERE b.deployed_at IS NOT NULL AND a.deleted_at IS NULL"
        " AND (?1 = '' OR a.name LIKE ?2 ESCAPE '\\')"
        " AND (?3 = '' OR b.status = ?3)"
        " AND (?4 IS NULL OR a.owner = ?4"
        "      OR EXISTS (SELECT 1 FROM app_access g WHERE g.app_id = a.id"
        "        AND g.role = 'collaborator' AND"
        "        ((g.kind = 'user' AND g.principal = ?4) OR"
        "         (g.kind = 'group' AND g.principal IN (SELECT value FROM json_each(?7))))))";
    const int per_page = q.per_page > 0 ? q.per_page : 25;
    const int page = q.page > 0 ? q.page : 1;
    const std::string pattern = contains_pattern(q.search);
    std::optional<std::string> viewer;
    std::string groups = "[]";
    if (q.visible_to) {
      viewer = q.visible_to->sub;
      groups = groups_to_json(q.visible_to->groups);
    }
    std::lock_guard lock(mu_);
    DeploymentListResult result;
    Statement count(db_, "SELECT COUNT(*)" + std::string(kFrom));
    count.bind(1, q.search).bind(2, pattern).bind(3, q.status).bind(4, viewer).bind(7, groups);
    if (count.step()) result.total = count.int32(0);
    Statement query(db_,
                    sql("SELECT a.id, a.name, b.id, b.deployed_by, u.name, b.deployed_at, "
                        "b.status",
                        kFrom, " ORDER BY b.deployed_at DESC, b.rowid DESC LIMIT ?5 OFFSET ?6"));
    query.bind(1, q.search)
        .bind(2, pattern)
        .bind(3, q.status)
        .bind(4, viewer)
        .bind(5, per_page)
        .bind(6, static_cast<std::int64_t>(page - 1) * per_page)
        .bind(7, groups);
    while (query.step()) {
      Deployment d;
      d.app_id = query.text(0);
      d.app_name = query.text(1);
      d.bundle_id = query.text(2);
      d.deployed_by = query.optional_text(3);
      d.deployed_by_name = query.optional_text(4);
      d.deployed_at = query.optional_text(5);
      d.status = query.text(6);
      result.deployments.push_back(std::move(d));
    }
    return result;
  }

 private:
  void insert_pat_locked(const PersonalAccessToken& pat) {
    if (pat.created_at.empty()) throw std::invalid_argument("create_pat: empty created_at");
    Statement insert(db_,
                     "INSERT INTO personal_access_tokens (id, user_sub, name, token_hash, "
                     "created_at, expires_at, last_used_at, revoked) VALUES (?, ?, ?, ?, ?, ?, "
                     "?, ?)");
    insert.bind(1, pat.id.empty() ? uuid_v4() : pat.id)
        .bind(2, pat.user_sub)
        .bind(3, pat.name)
        .bind(4, pat.token_hash)
        .bind(5, pat.created_at)
        .bind(6, pat.expires_at)
        .bind(7, pat.last_used_at)
        .bind(8, pat.revoked);
    run_write(insert, "token already exists", "user not found");
  }

  int expire_aliases_locked(const std::string& now) {
    Statement expired(db_,
                      "SELECT name, app_id, phase, expires_at FROM app_aliases "
                      "WHERE expires_at <= ?");
    expired.bind(1, now);
    std::vector<AppAlias> rows;
    while (expired.step()) rows.push_back(read_alias(expired));
    for (const auto& row : rows) {
      if (auto current = alias_at(row, now)) {
        Statement update(db_, "UPDATE app_aliases SET phase = ?, expires_at = ? WHERE name = ?");
        update.bind(1, current->phase).bind(2, current->expires_at).bind(3, row.name).run();
      } else {
        Statement(db_, "DELETE FROM app_aliases WHERE name = ?").bind(1, row.name).run();
      }
    }
    return static_cast<int>(rows.size());
  }

  static AppAlias read_alias(const Statement& row) {
    return AppAlias{row.text(0), row.text(1), row.text(2), row.text(3)};
  }

  std::optional<AppAlias> alias_locked(const std::string& name, const std::string& now) {
    Statement query(db_,
                    "SELECT a.name, a.app_id, a.phase, a.expires_at FROM app_aliases a "
                    "JOIN apps p ON p.id = a.app_id WHERE a.name = ? AND p.deleted_at IS NULL");
    query.bind(1, name);
    if (!query.step()) return std::nullopt;
    return alias_at(read_alias(query), now);
  }

  // Before `name` becomes the live name of app `app_id` ("" = a new app): an
  // alias still serving another app keeps it; any other alias row of that
  // name (redirect phase, expired, or the app's own) is dropped, since a
  // live name wins over an alias anyway.
  void claim_name_locked(const std::string& name, const std::string& app_id,
                         const std::string& now) {
    auto alias = alias_locked(name, now);
    if (alias && alias->phase == "alias" && alias->app_id != app_id) {
      throw StoreError::name_reserved("app name \"" + name +
                                      "\" is reserved as an alias of a renamed app until " +
                                      alias->expires_at);
    }
    Statement(db_, "DELETE FROM app_aliases WHERE name = ?").bind(1, name).run();
  }

  static std::string name_taken_message(const std::string& name) {
    return "app name \"" + name + "\" already exists";
  }

  // SQLite calls this for every row inserted, updated or deleted on db_
  // (rolled-back writes too: a spurious bump only costs a cache re-read).
  static void count_change(void* self, int, const char*, const char*, sqlite3_int64) {
    static_cast<SqliteStore*>(self)->changes_.fetch_add(1);
  }

  std::mutex mu_;
  SqliteDb db_;
  std::atomic<std::uint64_t> changes_{0};
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path) {
  if (path != ":memory:") create_private_parents(path);
  return std::make_unique<SqliteStore>(path.string());
}

void require_supported_driver(const DatabaseConfig& config) {
  if (config.driver == "sqlite") return;
  throw std::runtime_error("database.driver = \"" + config.driver +
                           "\" is not supported by this version: it keeps its data in SQLite "
                           "only; set database.driver = \"sqlite\" (and database.path)");
}

std::unique_ptr<Store> open_store(const DatabaseConfig& config) {
  require_supported_driver(config);
  return open_sqlite_store(config.path);
}

}  // namespace blockyard::store
