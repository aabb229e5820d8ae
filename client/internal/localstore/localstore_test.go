package localstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jmsg.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestOpenMigratesAndRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	var v int
	if err := db.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("user_version = %d, %v; want %d", v, err, SchemaVersion)
	}
	if err := db.SetMeta(ctx, "sync_key", 42); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Reopening keeps the data and does not migrate again.
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := db2.Meta(ctx, "sync_key"); k != 42 {
		t.Fatalf("sync_key after reopen = %d, want 42", k)
	}
	// A database written by a newer schema is refused.
	if _, err := db2.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db2.Close()
	_, err = Open(ctx, path)
	var me *MigrateError
	if !errors.As(err, &me) {
		t.Fatalf("Open(newer schema) = %v, want *MigrateError", err)
	}
}

// TestUpgradeFromEveryOlderSchema builds a database at each older schema
// version and checks that Open brings it to the newest one.
func TestUpgradeFromEveryOlderSchema(t *testing.T) {
	for from := 0; from < SchemaVersion; from++ {
		path := filepath.Join(t.TempDir(), "old.db")
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		for v := 0; v < from; v++ {
			if _, err := raw.Exec(migrations[v]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := raw.Exec(`PRAGMA user_version = ` + strconv.Itoa(from)); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("upgrading from version %d: %v", from, err)
		}
		var v int
		db.db.QueryRow(`PRAGMA user_version`).Scan(&v)
		db.Close()
		if v != SchemaVersion {
			t.Fatalf("from %d: version %d after open, want %d", from, v, SchemaVersion)
		}
	}
}

func TestStoreIncomingDeduplicatesAndTracksSequence(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	in := func(serverID, seq int64, from string, received bool) Incoming {
		return Incoming{ConvType: 1, Target: "bob01", ServerConvID: 7, Message: Message{
			ServerID: serverID, Seq: seq, CID: "c" + string(rune('a'+serverID)), Received: received,
			Status: 8, ContentType: 1, Content: `{}`, From: from, ServerTime: 1000 * seq, LocalTime: 1}}
	}
	got, _, err := db.StoreIncoming(ctx, []Incoming{in(1, 1, "bob01", true), in(3, 3, "bob01", true)})
	if err != nil || len(got) != 2 {
		t.Fatalf("StoreIncoming = %d stored, %v", len(got), err)
	}
	c, _ := db.ConversationByTarget(ctx, 1, "bob01")
	if c.SyncedSeq != 1 || c.Unread != 2 || c.ServerConvID != 7 || c.LatestTime != 3000 {
		t.Fatalf("after 1 and 3: %+v, want synced 1, unread 2, server conv 7, latest 3000", c)
	}
	// The gap is filled; the duplicate of 1 is skipped; own message 2 adds no unread.
	got, _, err = db.StoreIncoming(ctx, []Incoming{in(1, 1, "bob01", true), in(2, 2, "alice", false)})
	if err != nil || len(got) != 1 || got[0].ServerID != 2 {
		t.Fatalf("StoreIncoming(dup, new) = %+v, %v; want only server id 2", got, err)
	}
	c, _ = db.ConversationByTarget(ctx, 1, "bob01")
	if c.SyncedSeq != 3 || c.Unread != 2 {
		t.Fatalf("after filling the gap: synced %d unread %d, want 3 and 2", c.SyncedSeq, c.Unread)
	}
	ms, _ := db.Messages(ctx, c.ID, 0, 10)
	if len(ms) != 3 || ms[0].Seq != 3 || ms[2].Seq != 1 {
		t.Fatalf("Messages newest first = %+v", ms)
	}
	if _, err := db.MarkRead(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.TotalUnread(ctx); n != 0 {
		t.Fatalf("TotalUnread after clear = %d", n)
	}
}

// Messages without a client id (group events) are told apart by server id.
func TestMessagesWithoutClientID(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	ev := func(serverID int64) Incoming {
		return Incoming{ConvType: 2, Target: "7", ServerConvID: 3, Message: Message{ServerID: serverID, Seq: serverID,
			Received: true, Status: 8, ContentType: contentEvent, Content: `{}`, From: "owner", LocalTime: 1}}
	}
	got, _, err := db.StoreIncoming(ctx, []Incoming{ev(1), ev(2), ev(2)})
	if err != nil || len(got) != 2 {
		t.Fatalf("StoreIncoming(two events, one twice) stored %d, %v; want 2", len(got), err)
	}
	c, _ := db.ConversationByTarget(ctx, 2, "7")
	if c.Unread != 0 || c.SyncedSeq != 2 {
		t.Fatalf("after two events: unread %d synced %d, want 0 and 2", c.Unread, c.SyncedSeq)
	}
}

// Media: local paths round-trip, a message whose upload is done stays in
// the outbox until sent, and a withdrawn message's content is not
// overwritten by a finishing upload.
func TestMediaRows(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	c, err := db.EnsureConversation(ctx, 1, "bob01", "bob01")
	if err != nil {
		t.Fatal(err)
	}
	id, err := db.InsertOutgoing(ctx, Message{ConvID: c.ID, CID: "c1", Status: statusSending, ContentType: 2,
		Content: `{}`, From: "alice", LocalTime: 1, MediaPath: "media/sent/c1.png", ThumbPath: "media/sent/c1-thumb.png"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := db.MessageByID(ctx, id)
	if m.MediaPath != "media/sent/c1.png" || m.ThumbPath != "media/sent/c1-thumb.png" {
		t.Fatalf("paths = %q, %q", m.MediaPath, m.ThumbPath)
	}
	if ok, err := db.UpdateQueuedContent(ctx, id, `{"x":1}`, statusUploaded); !ok || err != nil {
		t.Fatalf("UpdateQueuedContent = %v, %v", ok, err)
	}
	if out, _ := db.Outbox(ctx, 10); len(out) != 1 || out[0].Status != statusUploaded || out[0].Content != `{"x":1}` {
		t.Fatalf("Outbox = %+v, want the uploaded message", out)
	}
	if ok, _ := db.CancelSending(ctx, id); !ok {
		t.Fatal("CancelSending(uploaded) = false")
	}
	if ok, _ := db.UpdateQueuedContent(ctx, id, `{"x":2}`, statusUploaded); ok {
		t.Fatal("UpdateQueuedContent(withdrawn) = true")
	}
	if ok, err := db.SetThumbPath(ctx, id, "media/image/X-thumb.png"); !ok || err != nil {
		t.Fatalf("SetThumbPath = %v, %v", ok, err)
	}
	if ok, err := db.SetMediaPath(ctx, id, ""); !ok || err != nil {
		t.Fatalf("SetMediaPath = %v, %v", ok, err)
	}
	if m, _ := db.MessageByID(ctx, id); m.Content != `{"x":1}` || m.ThumbPath != "media/image/X-thumb.png" || m.MediaPath != "" {
		t.Fatalf("after withdraw and path updates: %+v", m)
	}

	u := Upload{MsgID: id, Part: "media", UploadID: "abc", UploadURL: "http://h/v1/media", Size: 9}
	if err := db.SetUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Upload(ctx, id, "media"); err != nil || got != u {
		t.Fatalf("Upload = %+v, %v; want %+v", got, err, u)
	}
	if err := db.DeleteUpload(ctx, id, "media"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Upload(ctx, id, "media"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Upload after delete = %v, want ErrNotFound", err)
	}
}

// A held message the server hands out again as a retraction prompt takes
// the prompt, once; other duplicates are skipped. Its media files are
// forgotten, and reported for deletion unless another message uses them.
func TestStoreIncomingAppliesRetraction(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	msg := func(serverID int64, contentType int, content string) Incoming {
		return Incoming{ConvType: 1, Target: "bob01", ServerConvID: 7, Message: Message{ServerID: serverID, Seq: serverID,
			Received: true, Status: statusDownloadFailed, ContentType: contentType, Content: content, From: "bob01", LocalTime: 1}}
	}
	stored, _, err := db.StoreIncoming(ctx, []Incoming{msg(1, 2, `{"msg_type":"image"}`), msg(2, 2, `{"msg_type":"image"}`)})
	if err != nil || len(stored) != 2 {
		t.Fatalf("StoreIncoming(two images) = %d stored, %v", len(stored), err)
	}
	for _, set := range []struct {
		fn   func(context.Context, int64, string) (bool, error)
		id   int64
		path string
		what string
	}{
		{db.SetMediaPath, stored[0].ID, "media/image/a.png", "media of 1"},
		{db.SetThumbPath, stored[0].ID, "media/image/a-thumb.png", "thumb of 1"},
		{db.SetThumbPath, stored[1].ID, "media/image/a-thumb.png", "thumb of 2"}, // the same media
	} {
		if ok, err := set.fn(ctx, set.id, set.path); !ok || err != nil {
			t.Fatalf("setting the %s = %v, %v; want true", set.what, ok, err)
		}
	}

	const prompt = `{"msg_type":"prompt","msg_body":{"prompt_type":0,"prompt_text":"message retracted","orig_msg_type":"image"}}`
	stored, retracted, err := db.StoreIncoming(ctx, []Incoming{msg(1, contentPrompt, prompt), msg(2, 2, `{"msg_type":"image","x":1}`)})
	if err != nil || len(stored) != 0 || len(retracted) != 1 {
		t.Fatalf("StoreIncoming(1 retracted, 2 again) = %d stored, %d retracted, %v; want 0 and 1", len(stored), len(retracted), err)
	}
	r := retracted[0]
	if r.Message.ServerID != 1 || r.Message.ContentType != contentPrompt || r.Message.Content != prompt ||
		r.Message.MediaPath != "" || r.Message.ThumbPath != "" || r.Message.Status != statusReceived {
		t.Fatalf("retracted row = %+v; want server id 1 with the prompt, no media paths, status received", r.Message)
	}
	if len(r.Orphans) != 1 || r.Orphans[0] != "media/image/a.png" {
		t.Fatalf("orphans = %q, want only media/image/a.png (the thumbnail is message 2's too)", r.Orphans)
	}
	if m, _ := db.MessageByServerID(ctx, 2); m.Content != `{"msg_type":"image"}` || m.ThumbPath == "" {
		t.Fatalf("message 2 = %+v; want it unchanged", m)
	}

	// Again: nothing changes; a download finishing late records nothing.
	if _, retracted, err = db.StoreIncoming(ctx, []Incoming{msg(1, contentPrompt, prompt)}); err != nil || len(retracted) != 0 {
		t.Fatalf("StoreIncoming(1 retracted again) = %d retracted, %v; want 0", len(retracted), err)
	}
	if _, ok, err := db.Retract(ctx, r.Message.ID, prompt); ok || err != nil {
		t.Fatalf("Retract(a prompt) = %v, %v; want false", ok, err)
	}
	if ok, err := db.SetMediaPath(ctx, r.Message.ID, "media/image/a.png"); ok || err != nil {
		t.Fatalf("SetMediaPath(retracted) = %v, %v; want false", ok, err)
	}
}
