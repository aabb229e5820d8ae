package storetest

import (
	"testing"

	"github.com/jmsg-im/jmsg/server/store"
)

// testRetention: Purge deletes by time, reports first_seq past the end of
// a fully purged conversation, raises the horizon only as far as the marks
// say, and message ids are never reused.
func testRetention(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	old := mustAppend(t, s, msg(appA, a, b, "o1", 1000), msg(appA, a, b, "o2", 1000), msg(appA, a, c, "o3", 1000))
	if err := s.MarkLSN(ctx(t), 5000); err != nil {
		t.Fatalf("MarkLSN() = %v", err)
	}
	_, markCursor, _ := mustChanges(t, s, appA, a, store.Cursor{}, 100)
	kept := mustAppend(t, s, msg(appA, a, b, "n1", 9000))
	n, err := s.Purge(ctx(t), 5000)
	if err != nil || n != 3 {
		t.Fatalf("Purge(5000) = %d, %v; want 3 deleted", n, err)
	}
	horizon, err := s.PurgedLSN(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if horizon != markCursor.LSN {
		t.Errorf("PurgedLSN() = %d, want the mark's LSN %d (not the newest)", horizon, markCursor.LSN)
	}
	if first, err := s.FirstSeq(ctx(t), appA, kept[0].ConvID); err != nil || first != kept[0].Seq {
		t.Errorf("FirstSeq(partly purged) = %d, %v; want %d", first, err, kept[0].Seq)
	}
	if first, err := s.FirstSeq(ctx(t), appA, old[2].ConvID); err != nil || first != old[2].Seq+1 {
		t.Errorf("FirstSeq(fully purged) = %d, %v; want last_seq+1 = %d", first, err, old[2].Seq+1)
	}
	ch, _, _ := mustChanges(t, s, appA, c, store.Cursor{}, 10)
	if len(ch) != 1 || ch[0].FirstSeq != ch[0].LastSeq+1 {
		t.Errorf("Changes(carol) after a full purge = %+v, want first_seq = last_seq+1", ch)
	}
	// Ids keep growing although the newest message of a conversation went.
	again := mustAppend(t, s, msg(appA, a, c, "o4", 9000))
	if again[0].MsgID <= kept[0].MsgID {
		t.Errorf("message id after a purge = %d, want above %d", again[0].MsgID, kept[0].MsgID)
	}
	if n, err := s.Purge(ctx(t), 5000); err != nil || n != 0 {
		t.Errorf("Purge again = %d, %v; want 0", n, err)
	}
	// Even when retention removes every message, ids are not handed out again.
	if _, err := s.Purge(ctx(t), 100000); err != nil {
		t.Fatal(err)
	}
	last := mustAppend(t, s, msg(appA, b, c, "z1", 200000))
	if last[0].MsgID <= again[0].MsgID {
		t.Errorf("message id after purging everything = %d, want above %d", last[0].MsgID, again[0].MsgID)
	}
}
