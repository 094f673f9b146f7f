// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The schema of the patch server as numbered migrations. Each migration runs
 * once, in order, inside the one transaction that also records it in
 * schema_migrations, so a crash leaves either the old or the new schema.
 * Never edit a migration that has shipped: add the next one.
 * The SQL is the subset both back ends speak (db.h), with @ID@ for keys.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eportal/db.h"
#include "eportal/eportal.h"

static const char *const migrations[] = {
    /* 1: the model */
    "CREATE TABLE feeds ("
    " id @ID@, name TEXT NOT NULL UNIQUE,"
    " auto_update INTEGER NOT NULL DEFAULT 0,"
    " deploy_after_hours BIGINT NOT NULL DEFAULT 0,"
    " channel TEXT NOT NULL DEFAULT 'default',"
    " created BIGINT NOT NULL);"
    "CREATE TABLE keys ("
    " id @ID@, key TEXT NOT NULL UNIQUE,"
    " feed_id BIGINT NOT NULL REFERENCES feeds(id),"
    " server_limit BIGINT NOT NULL DEFAULT 0,"
    " products TEXT NOT NULL DEFAULT '',"
    " note TEXT NOT NULL DEFAULT '',"
    " sticky TEXT NOT NULL DEFAULT '',"
    " ip_range TEXT NOT NULL DEFAULT '',"
    " created BIGINT NOT NULL);"
    "CREATE TABLE servers ("
    " id @ID@, server_id TEXT NOT NULL UNIQUE,"
    " key_id BIGINT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,"
    " hostname TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '',"
    " kernel_id TEXT NOT NULL DEFAULT '', patch_level BIGINT NOT NULL DEFAULT -1,"
    " effective_version TEXT NOT NULL DEFAULT '', distro TEXT NOT NULL DEFAULT '',"
    " uptime BIGINT NOT NULL DEFAULT 0, agent_version TEXT NOT NULL DEFAULT '',"
    " is_updated INTEGER NOT NULL DEFAULT 1,"
    " registered BIGINT NOT NULL, last_seen BIGINT NOT NULL);"
    "CREATE INDEX servers_key ON servers(key_id);"
    "CREATE INDEX servers_last_seen ON servers(last_seen);"
    "CREATE INDEX servers_hostname ON servers(hostname);"
    "CREATE TABLE server_tags ("
    " server_id BIGINT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
    " tag TEXT NOT NULL, PRIMARY KEY (server_id, tag));"
    "CREATE INDEX server_tags_tag ON server_tags(tag);"
    "CREATE TABLE patchsets ("
    " id @ID@, name TEXT NOT NULL UNIQUE, product TEXT NOT NULL,"
    " released BIGINT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    " meta_sha256 TEXT NOT NULL, created BIGINT NOT NULL);"
    "CREATE TABLE patches ("
    " id @ID@, patchset_id BIGINT NOT NULL REFERENCES patchsets(id) ON DELETE CASCADE,"
    " file TEXT NOT NULL, sha256 TEXT NOT NULL, length BIGINT NOT NULL,"
    " build_id TEXT NOT NULL DEFAULT '', kernel_id TEXT NOT NULL DEFAULT '',"
    " level BIGINT NOT NULL, custom TEXT NOT NULL);"
    "CREATE INDEX patches_patchset ON patches(patchset_id);"
    "CREATE TABLE feed_patchsets ("
    " feed_id BIGINT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
    " patchset_id BIGINT NOT NULL REFERENCES patchsets(id) ON DELETE CASCADE,"
    " state TEXT NOT NULL, changed BIGINT NOT NULL,"
    " PRIMARY KEY (feed_id, patchset_id));"
    "CREATE TABLE users ("
    " id @ID@, name TEXT NOT NULL UNIQUE, pwhash TEXT NOT NULL,"
    " readonly INTEGER NOT NULL DEFAULT 0, created BIGINT NOT NULL);"
    "CREATE TABLE api_keys ("
    " id @ID@, token_sha256 TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,"
    " readonly INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '',"
    " created BIGINT NOT NULL);"
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO feeds (name, created) VALUES ('main', 0);",
    /* 2: mirroring: where a patchset came from (NULL: deployed from an archive) */
    "ALTER TABLE patchsets ADD COLUMN origin TEXT;",
    /* 3: the highest kernel patch level a server's feed has for its kernel (-1: none) */
    "ALTER TABLE servers ADD COLUMN latest_level BIGINT NOT NULL DEFAULT -1;",
};

#define NMIGRATIONS ((int64_t)(sizeof(migrations) / sizeof(migrations[0])))

int64_t kc_ep_schema_version(void)
{
	return NMIGRATIONS;
}

int kc_ep_migrate(struct kc_db *db, int64_t *applied, struct kc_err *err)
{
	int64_t cur = 0;
	int r;

	if (applied)
		*applied = 0;
	r = kc_db_begin(db, 1, err);
	if (r < 0)
		return r;
	r = kc_db_exec(db,
		       "CREATE TABLE IF NOT EXISTS schema_migrations ("
		       " version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)",
		       err);
	/* replicas starting together on PostgreSQL: one migrates, the others wait */
	if (r == 0 && kc_db_kind(db) == KC_DB_PG)
		r = kc_db_exec(db, "LOCK TABLE schema_migrations IN EXCLUSIVE MODE", err);
	if (r == 0)
		r = kc_db_query_int(db, &cur, err,
				    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "");
	if (r < 0)
		goto fail;
	if (cur > NMIGRATIONS) {
		r = kc_err_set(err, -EPROTONOSUPPORT,
			       "database schema version %lld is newer than this eportal (%lld)",
			       (long long)cur, (long long)NMIGRATIONS);
		goto fail;
	}
	for (int64_t v = cur + 1; v <= NMIGRATIONS; v++) {
		r = kc_db_exec(db, migrations[v - 1], err);
		if (r < 0) {
			kc_err_prefix(err, "migration %lld", (long long)v);
			goto fail;
		}
		r = (int)kc_db_run(db, err,
				   "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
				   "ii", v, (int64_t)time(NULL));
		if (r < 0)
			goto fail;
		if (applied)
			(*applied)++;
	}
	return kc_db_commit(db, err);
fail:
	kc_db_rollback(db);
	return r;
}
