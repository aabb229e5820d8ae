package sqlite

// socialSchema is migration 7: blacklists, friends, no-disturb settings
// and group shields. Each row names its owner (the user whose list or
// setting it is) and one entry; a friendship is two rows, one per
// direction, each with that direction's notes. Rows carry no app key: a
// uid belongs to one app, and the queries join users or groups to keep
// to it.
const socialSchema = `CREATE TABLE blacklist (
	owner_uid INTEGER NOT NULL REFERENCES users(uid),
	uid       INTEGER NOT NULL REFERENCES users(uid),
	ctime     INTEGER NOT NULL,
	PRIMARY KEY (owner_uid, uid)
);
CREATE INDEX blacklist_by_entry ON blacklist (uid);
CREATE TABLE friends (
	owner_uid INTEGER NOT NULL REFERENCES users(uid),
	uid       INTEGER NOT NULL REFERENCES users(uid),
	note_name TEXT NOT NULL DEFAULT '',
	others    TEXT NOT NULL DEFAULT '',
	ctime     INTEGER NOT NULL,
	PRIMARY KEY (owner_uid, uid)
);
CREATE INDEX friends_by_entry ON friends (uid);
CREATE TABLE nodisturb_users (
	owner_uid INTEGER NOT NULL REFERENCES users(uid),
	uid       INTEGER NOT NULL REFERENCES users(uid),
	PRIMARY KEY (owner_uid, uid)
);
CREATE INDEX nodisturb_users_by_entry ON nodisturb_users (uid);
CREATE TABLE nodisturb_groups (
	uid INTEGER NOT NULL REFERENCES users(uid),
	gid INTEGER NOT NULL REFERENCES groups(gid),
	PRIMARY KEY (uid, gid)
);
-- A user with global no-disturb on has a row.
CREATE TABLE nodisturb_global (
	uid INTEGER PRIMARY KEY REFERENCES users(uid)
);
CREATE TABLE group_shields (
	gid INTEGER NOT NULL REFERENCES groups(gid),
	uid INTEGER NOT NULL REFERENCES users(uid),
	PRIMARY KEY (gid, uid)
);
CREATE INDEX group_shields_by_user ON group_shields (uid, gid);`
