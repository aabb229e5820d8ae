package sqlite

import (
	"context"
	"database/sql"

	"github.com/jmsg-im/jmsg/internal/sqlmigrate"
)

// migrations are applied in order; migrations[i] moves the schema from
// version i to i+1 (PRAGMA user_version). Never edit a released entry:
// append a new one.
var migrations = []string{
	// 1: apps, users, devices, login tokens, conversations with their
	// members and messages, and the change counter (lsn).
	`CREATE TABLE apps (
		app_key       TEXT PRIMARY KEY,
		master_secret TEXT NOT NULL,
		name          TEXT NOT NULL DEFAULT '',
		ctime         INTEGER NOT NULL
	);
	CREATE TABLE users (
		uid       INTEGER PRIMARY KEY,
		app_key   TEXT NOT NULL REFERENCES apps(app_key),
		username  TEXT NOT NULL,
		password  BLOB NOT NULL,
		nickname  TEXT NOT NULL DEFAULT '',
		avatar    TEXT NOT NULL DEFAULT '',
		gender    INTEGER NOT NULL DEFAULT 0,
		birthday  TEXT NOT NULL DEFAULT '',
		signature TEXT NOT NULL DEFAULT '',
		region    TEXT NOT NULL DEFAULT '',
		address   TEXT NOT NULL DEFAULT '',
		extras    TEXT NOT NULL DEFAULT '',
		ctime     INTEGER NOT NULL,
		mtime     INTEGER NOT NULL,
		UNIQUE (app_key, username)
	);
	CREATE TABLE devices (
		uid      INTEGER NOT NULL REFERENCES users(uid),
		platform TEXT NOT NULL,
		mtime    INTEGER NOT NULL,
		PRIMARY KEY (uid, platform)
	);
	CREATE TABLE tokens (
		hash    BLOB PRIMARY KEY,
		uid     INTEGER NOT NULL REFERENCES users(uid),
		expires INTEGER NOT NULL
	);
	CREATE INDEX tokens_by_user ON tokens (uid);
	-- counters holds 'lsn', the number of the newest committed change.
	CREATE TABLE counters (
		name  TEXT PRIMARY KEY,
		value INTEGER NOT NULL
	);
	INSERT INTO counters (name, value) VALUES ('lsn', 0);
	CREATE TABLE conversations (
		conv_id    INTEGER PRIMARY KEY,
		app_key    TEXT NOT NULL,
		type       INTEGER NOT NULL,
		key        TEXT NOT NULL,
		last_seq   INTEGER NOT NULL DEFAULT 0,
		change_lsn INTEGER NOT NULL DEFAULT 0,
		UNIQUE (app_key, key)
	);
	CREATE TABLE conv_members (
		conv_id       INTEGER NOT NULL REFERENCES conversations(conv_id),
		uid           INTEGER NOT NULL REFERENCES users(uid),
		peer_uid      INTEGER NOT NULL DEFAULT 0,
		join_seq      INTEGER NOT NULL DEFAULT 0,
		delivered_seq INTEGER NOT NULL DEFAULT 0,
		read_seq      INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (conv_id, uid)
	);
	CREATE INDEX conv_members_by_user ON conv_members (uid);
	CREATE TABLE messages (
		msg_id     INTEGER PRIMARY KEY,
		conv_id    INTEGER NOT NULL REFERENCES conversations(conv_id),
		seq        INTEGER NOT NULL,
		sender_uid INTEGER NOT NULL,
		cid        TEXT NOT NULL DEFAULT '',
		ctime      INTEGER NOT NULL,
		content    BLOB NOT NULL,
		UNIQUE (conv_id, seq)
	);
	-- A client id identifies a sender's message; an empty one identifies nothing.
	CREATE UNIQUE INDEX messages_by_cid ON messages (sender_uid, cid) WHERE cid != '';`,

	// 2: groups, their members and join applications. A member who left
	// keeps a conv_members row with left_seq (the last message they may
	// read) and left_lsn (when they left).
	`CREATE TABLE groups (
		gid         INTEGER PRIMARY KEY,
		app_key     TEXT NOT NULL,
		conv_id     INTEGER NOT NULL DEFAULT 0,
		name        TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		avatar      TEXT NOT NULL DEFAULT '',
		type        INTEGER NOT NULL,
		max_members INTEGER NOT NULL,
		owner_uid   INTEGER NOT NULL,
		ctime       INTEGER NOT NULL,
		mtime       INTEGER NOT NULL,
		dissolved   INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX groups_public ON groups (app_key, type, dissolved, gid);
	CREATE TABLE group_members (
		gid           INTEGER NOT NULL REFERENCES groups(gid),
		uid           INTEGER NOT NULL REFERENCES users(uid),
		role          INTEGER NOT NULL DEFAULT 0,
		join_time     INTEGER NOT NULL,
		silence_start INTEGER NOT NULL DEFAULT 0,
		silence_end   INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (gid, uid)
	);
	CREATE INDEX group_members_by_user ON group_members (uid);
	CREATE TABLE group_applications (
		event_id  INTEGER PRIMARY KEY,
		gid       INTEGER NOT NULL REFERENCES groups(gid),
		uid       INTEGER NOT NULL REFERENCES users(uid),
		reason    TEXT NOT NULL DEFAULT '',
		status    INTEGER NOT NULL DEFAULT 0,
		ctime     INTEGER NOT NULL
	);
	CREATE UNIQUE INDEX group_applications_pending ON group_applications (gid, uid) WHERE status = 0;
	ALTER TABLE conv_members ADD COLUMN left_seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE conv_members ADD COLUMN left_lsn INTEGER NOT NULL DEFAULT 0;`,

	// 3: per-member changes (read positions) get their own change number;
	// 'purged_lsn' is the newest change number when history was last
	// trimmed by retention.
	`ALTER TABLE conv_members ADD COLUMN member_lsn INTEGER NOT NULL DEFAULT 0;
	INSERT INTO counters (name, value) VALUES ('purged_lsn', 0);
	CREATE INDEX messages_by_time ON messages (ctime);`,

	// 4: lsn_marks tells which LSN was current at which time, so that a
	// purge knows how far its horizon goes; 'msg_id' hands out message ids
	// that are never reused, even after retention removed the newest.
	`CREATE TABLE lsn_marks (
		lsn INTEGER NOT NULL,
		ms  INTEGER NOT NULL
	);
	CREATE INDEX lsn_marks_by_time ON lsn_marks (ms);
	INSERT INTO counters (name, value) SELECT 'msg_id', coalesce(max(msg_id), 0) FROM messages;`,

	// 5: media records, which messages carry which media (for download
	// permission; the rows go with their message), and server secrets.
	`CREATE TABLE media (
		media_id     TEXT PRIMARY KEY,
		app_key      TEXT NOT NULL,
		kind         TEXT NOT NULL,
		uploader_uid INTEGER NOT NULL,
		crc32        INTEGER NOT NULL,
		fsize        INTEGER NOT NULL,
		format       TEXT NOT NULL DEFAULT '',
		hash         TEXT NOT NULL,
		width        INTEGER NOT NULL DEFAULT 0,
		height       INTEGER NOT NULL DEFAULT 0,
		fname        TEXT NOT NULL DEFAULT '',
		content_type TEXT NOT NULL DEFAULT '',
		blob_key     TEXT NOT NULL,
		thumb_key    TEXT NOT NULL DEFAULT '',
		thumb_crc32  INTEGER NOT NULL DEFAULT 0,
		thumb_size   INTEGER NOT NULL DEFAULT 0,
		ctime        INTEGER NOT NULL
	);
	CREATE INDEX media_by_hash ON media (app_key, hash);
	CREATE TABLE message_media (
		msg_id   INTEGER NOT NULL REFERENCES messages(msg_id) ON DELETE CASCADE,
		media_id TEXT NOT NULL,
		PRIMARY KEY (media_id, msg_id)
	);
	CREATE INDEX message_media_by_message ON message_media (msg_id);
	CREATE TABLE secrets (
		name  TEXT PRIMARY KEY,
		value BLOB NOT NULL
	);`,

	// 6: admin accounts (registered through the REST API) and disabled
	// users (who cannot log in).
	`ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX users_by_app ON users (app_key, admin, uid);`,

	// 7: blacklists, friends, no-disturb and group shields (social.go).
	socialSchema,

	// 8: sensitive words and their switch, retracted messages (words.go).
	wordsSchema,
}

// migrate brings the database to the newest schema.
func migrate(ctx context.Context, db *sql.DB) error {
	return sqlmigrate.Apply(ctx, db, migrations, "jmsgd")
}
