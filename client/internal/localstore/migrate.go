package localstore

import (
	"context"
	"database/sql"

	"github.com/jmsg-im/jmsg/internal/sqlmigrate"
)

// migrations[i] moves the schema from version i to i+1 (PRAGMA
// user_version). Released entries are never edited; new ones are appended
// and tested by upgrading a database built by the older schema.
var migrations = []string{
	// 1: sync state, conversations, messages.
	`CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value INTEGER NOT NULL
	);
	CREATE TABLE conversations (
		id             INTEGER PRIMARY KEY,
		type           INTEGER NOT NULL,
		target         TEXT NOT NULL,
		title          TEXT NOT NULL DEFAULT '',
		server_conv_id INTEGER NOT NULL DEFAULT 0,
		synced_seq     INTEGER NOT NULL DEFAULT 0,
		unread         INTEGER NOT NULL DEFAULT 0,
		latest_time    INTEGER NOT NULL DEFAULT 0,
		ctime          INTEGER NOT NULL,
		UNIQUE (type, target)
	);
	CREATE TABLE messages (
		id           INTEGER PRIMARY KEY,
		conv_id      INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
		server_id    INTEGER UNIQUE,
		seq          INTEGER,
		cid          TEXT NOT NULL,
		received     INTEGER NOT NULL,
		status       INTEGER NOT NULL,
		content_type INTEGER NOT NULL,
		content      TEXT NOT NULL,
		from_user    TEXT NOT NULL,
		server_time  INTEGER NOT NULL DEFAULT 0,
		local_time   INTEGER NOT NULL,
		error_code   INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX messages_by_conv_seq ON messages (conv_id, seq);
	-- A sender's client id identifies one message; an empty one nothing.
	CREATE UNIQUE INDEX messages_by_cid ON messages (from_user, cid) WHERE cid != '';`,

	// 2: what the client knows of groups: whether the user is a member
	// (null: unknown) and the last info seen.
	`CREATE TABLE groups (
		gid       INTEGER PRIMARY KEY,
		is_member INTEGER,
		info      TEXT NOT NULL DEFAULT '',
		mtime     INTEGER NOT NULL DEFAULT 0
	);`,

	// 3: the read position of each conversation, shared with the user's
	// other devices through the server; read_pending marks a position not
	// yet sent.
	`ALTER TABLE conversations ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE conversations ADD COLUMN read_pending INTEGER NOT NULL DEFAULT 0;`,

	// 4: media. The local copies of a message's media (paths relative to
	// the database's directory; '' when not local), and the resumable
	// uploads under way, so that a restarted process continues them.
	`ALTER TABLE messages ADD COLUMN media_path TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN thumb_path TEXT NOT NULL DEFAULT '';
	CREATE TABLE media_uploads (
		msg_id     INTEGER NOT NULL,
		part       TEXT NOT NULL,
		upload_id  TEXT NOT NULL,
		upload_url TEXT NOT NULL,
		size       INTEGER NOT NULL,
		PRIMARY KEY (msg_id, part)
	);`,
}

// SchemaVersion is the schema version this SDK writes.
var SchemaVersion = len(migrations)

// migrate brings the database to the newest schema.
func migrate(ctx context.Context, db *sql.DB) error {
	return sqlmigrate.Apply(ctx, db, migrations, "SDK")
}
