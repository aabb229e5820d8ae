package sqlite

// wordsSchema is migration 8: sensitive words and the filter switch per
// app, retracted messages, and an index to find a group by its
// conversation. The report API reads a conversation's messages through
// its (conv_id, seq) key, not an index by time: an index more on messages
// is a B-tree more to update in every commit, on the hot path.
//
// A word is keyed by its lower-case form (folded), so that an app lists
// it once whatever its case; word keeps the spelling given. An app
// without a word_filters row has its filter on. A retraction goes with
// its message when retention removes it.
const wordsSchema = `CREATE TABLE sensitive_words (
		app_key TEXT NOT NULL,
		folded  TEXT NOT NULL,
		word    TEXT NOT NULL,
		itime   INTEGER NOT NULL,
		PRIMARY KEY (app_key, folded)
	);
	CREATE TABLE word_filters (
		app_key TEXT PRIMARY KEY,
		enabled INTEGER NOT NULL
	);
	CREATE TABLE retractions (
		msg_id INTEGER PRIMARY KEY REFERENCES messages(msg_id) ON DELETE CASCADE,
		uid    INTEGER NOT NULL,
		ctime  INTEGER NOT NULL
	);
	CREATE INDEX groups_by_conv ON groups (conv_id);`
