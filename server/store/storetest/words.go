package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// moderationTests are the suite's cases of store.Moderation.
var moderationTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Words", testWords},
	{"WordsLimit", testWordsLimit},
	{"WordFilter", testWordFilter},
	{"Retract", testRetract},
	{"RetractGroup", testRetractGroup},
	{"ReportApp", testReportApp},
	{"ReportScopes", testReportScopes},
}

func wordNames(ws []store.SensitiveWord) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Word
	}
	return out
}

func mustListWords(t testing.TB, s store.Store, app string, start, count int) ([]store.SensitiveWord, int) {
	t.Helper()
	ws, total, err := s.ListWords(ctx(t), app, start, count)
	if err != nil {
		t.Fatalf("ListWords(%q, %d, %d) = %v", app, start, count, err)
	}
	return ws, total
}

// testWords: words are listed in insert order once whatever their case,
// replaced and deleted by any spelling, per app.
func testWords(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	if ws, total := mustListWords(t, s, appA, 0, 10); len(ws) != 0 || total != 0 {
		t.Errorf("ListWords(new app) = %v, %d; want none", ws, total)
	}
	if err := s.AddWords(ctx(t), appA, []string{"bad", "Worse", "坏词"}, 1000, 100); err != nil {
		t.Fatalf("AddWords() = %v", err)
	}
	// Listed words are kept as they are, whatever case they come in again.
	if err := s.AddWords(ctx(t), appA, []string{"BAD", "ugly"}, 2000, 100); err != nil {
		t.Fatalf("AddWords(again) = %v", err)
	}
	ws, total := mustListWords(t, s, appA, 0, 10)
	want := []store.SensitiveWord{{Word: "bad", CTimeMs: 1000}, {Word: "Worse", CTimeMs: 1000}, {Word: "坏词", CTimeMs: 1000}, {Word: "ugly", CTimeMs: 2000}}
	if !slices.Equal(ws, want) || total != 4 {
		t.Errorf("ListWords() = %v, %d; want %v, 4", ws, total, want)
	}
	if ws, total := mustListWords(t, s, appA, 1, 2); !slices.Equal(wordNames(ws), []string{"Worse", "坏词"}) || total != 4 {
		t.Errorf("ListWords(1, 2) = %v, %d; want [Worse 坏词], 4", wordNames(ws), total)
	}
	if ws, total := mustListWords(t, s, appA, 10, 2); len(ws) != 0 || total != 4 {
		t.Errorf("ListWords(past the end) = %v, %d; want none, 4", ws, total)
	}
	if ws, _ := mustListWords(t, s, appB, 0, 10); len(ws) != 0 {
		t.Errorf("ListWords(other app) = %v, want none", ws)
	}

	// Replace: by any spelling of the old word; the new one goes last.
	if err := s.ReplaceWord(ctx(t), appA, "WORSE", "worst", 3000); err != nil {
		t.Errorf("ReplaceWord(WORSE, worst) = %v", err)
	}
	if err := s.ReplaceWord(ctx(t), appA, "missing", "other", 3000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReplaceWord(unlisted) = %v, want ErrNotFound", err)
	}
	if err := s.ReplaceWord(ctx(t), appA, "bad", "Ugly", 3000); !errors.Is(err, store.ErrExists) {
		t.Errorf("ReplaceWord(bad, Ugly listed) = %v, want ErrExists", err)
	}
	if err := s.ReplaceWord(ctx(t), appB, "bad", "x", 3000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReplaceWord(another app's word) = %v, want ErrNotFound", err)
	}
	// A new spelling of the same word is a replacement too.
	if err := s.ReplaceWord(ctx(t), appA, "bad", "Bad", 4000); err != nil {
		t.Errorf("ReplaceWord(bad, Bad) = %v", err)
	}
	if ws, _ := mustListWords(t, s, appA, 0, 10); !slices.Equal(wordNames(ws), []string{"坏词", "ugly", "worst", "Bad"}) {
		t.Errorf("ListWords() after replacing = %v, want [坏词 ugly worst Bad]", wordNames(ws))
	}

	if err := s.DeleteWord(ctx(t), appB, "ugly"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteWord(another app's word) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteWord(ctx(t), appA, "UGLY"); err != nil {
		t.Errorf("DeleteWord(UGLY) = %v", err)
	}
	if err := s.DeleteWord(ctx(t), appA, "ugly"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteWord(deleted) = %v, want ErrNotFound", err)
	}
	if ws, total := mustListWords(t, s, appA, 0, 10); !slices.Equal(wordNames(ws), []string{"坏词", "worst", "Bad"}) || total != 3 {
		t.Errorf("ListWords() after deleting = %v, %d; want [坏词 worst Bad], 3", wordNames(ws), total)
	}
}

// testWordsLimit: a call that would pass the limit adds nothing.
func testWordsLimit(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	if err := s.AddWords(ctx(t), appA, []string{"a", "b", "c"}, 1, 4); err != nil {
		t.Fatalf("AddWords(3 of 4) = %v", err)
	}
	if err := s.AddWords(ctx(t), appA, []string{"d", "e"}, 2, 4); !errors.Is(err, store.ErrFull) {
		t.Errorf("AddWords(2 more of 4) = %v, want ErrFull", err)
	}
	if ws, total := mustListWords(t, s, appA, 0, 10); total != 3 || !slices.Equal(wordNames(ws), []string{"a", "b", "c"}) {
		t.Errorf("ListWords() after a refused add = %v, %d; want [a b c]", wordNames(ws), total)
	}
	// Words listed already do not count twice.
	if err := s.AddWords(ctx(t), appA, []string{"A", "d"}, 3, 4); err != nil {
		t.Errorf("AddWords(one listed, one new) = %v, want the limit reached exactly", err)
	}
	// The limit is per app.
	if err := s.AddWords(ctx(t), appB, []string{"a", "b", "c", "d"}, 1, 4); err != nil {
		t.Errorf("AddWords(other app) = %v", err)
	}
}

// testWordFilter: on until turned off; WordFilter reads the switch and
// the words together.
func testWordFilter(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	check := func(app string, wantOn bool, wantWords []string) {
		t.Helper()
		on, words, err := s.WordFilter(ctx(t), app)
		if err != nil || on != wantOn || !slices.Equal(words, wantWords) {
			t.Errorf("WordFilter(%q) = %v, %q, %v; want %v, %q", app, on, words, err, wantOn, wantWords)
		}
	}
	check(appA, true, nil)
	if err := s.AddWords(ctx(t), appA, []string{"one", "two"}, 1, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWords(ctx(t), appA, []string{"Three"}, 2, 100); err != nil {
		t.Fatal(err)
	}
	check(appA, true, []string{"one", "two", "Three"})
	for _, on := range []bool{false, false, true, false} {
		if err := s.SetWordFilter(ctx(t), appA, on); err != nil {
			t.Fatalf("SetWordFilter(%v) = %v", on, err)
		}
		check(appA, on, []string{"one", "two", "Three"})
	}
	check(appB, true, nil)
}

// textDoc is a stored text document from → to.
func textDoc(from, to, text string) []byte {
	return []byte(`{"version":1,"target_type":"single","target_id":"` + to + `","from_type":"user","from_id":"` + from +
		`","create_time":1,"msg_type":"text","msg_body":{"text":"` + text + `"}}`)
}

// testRetract: a single message is found with its peer, retracted once
// with its content replaced in history, and forgets its media.
func testRetract(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	m := mediaRecord(t, "retracted", a, 10)
	mustPutMedia(t, s, appA, m)
	first := msg(appA, a, b, "c1", 100)
	first.Content = textDoc("alice", "bobby", "hello")
	res := mustAppend(t, s, first, mediaMsg(appA, a, b, "c2", 200, m.MediaID), msg(appA, a, a, "self", 300))

	ref, err := s.LookupMessage(ctx(t), appA, res[0].MsgID)
	want := store.MessageRef{
		StoredMessage: store.StoredMessage{MsgID: res[0].MsgID, ConvID: res[0].ConvID, Seq: 1, SenderUID: a, ClientMsgID: "c1", CTimeMs: 100, Content: first.Content},
		ConvType:      jmsg.ConversationSingle, PeerUID: b,
	}
	if err != nil || !sameRef(ref, want) {
		t.Errorf("LookupMessage(%d) = %+v, %v; want %+v", res[0].MsgID, ref, err, want)
	}
	if ref, err := s.LookupMessage(ctx(t), appA, res[2].MsgID); err != nil || ref.PeerUID != a || ref.ConvType != jmsg.ConversationSingle {
		t.Errorf("LookupMessage(message to oneself) = %+v, %v; want the sender as peer", ref, err)
	}
	for _, tc := range []struct {
		app string
		id  int64
	}{{appA, res[2].MsgID + 100}, {appB, res[0].MsgID}, {appA, 0}} {
		if _, err := s.LookupMessage(ctx(t), tc.app, tc.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LookupMessage(%q, %d) = %v, want ErrNotFound", tc.app, tc.id, err)
		}
		if err := s.Retract(ctx(t), tc.app, tc.id, a, []byte(`{}`), 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Retract(%q, %d) = %v, want ErrNotFound", tc.app, tc.id, err)
		}
	}

	prompt := []byte(`{"msg_type":"prompt"}`)
	if err := s.Retract(ctx(t), appA, res[0].MsgID, a, prompt, 150); err != nil {
		t.Fatalf("Retract() = %v", err)
	}
	if err := s.Retract(ctx(t), appA, res[0].MsgID, a, []byte(`{"again":1}`), 160); !errors.Is(err, store.ErrExists) {
		t.Errorf("Retract(again) = %v, want ErrExists", err)
	}
	ref, err = s.LookupMessage(ctx(t), appA, res[0].MsgID)
	want.Content, want.Retracted = prompt, true
	if err != nil || !sameRef(ref, want) {
		t.Errorf("LookupMessage(retracted) = %+v, %v; want %+v", ref, err, want)
	}
	msgs, _ := mustHistory(t, s, appA, res[0].ConvID, 0, 0, 10)
	if len(msgs) != 2 || string(msgs[0].Content) != string(prompt) || msgs[0].Seq != 1 || msgs[0].CTimeMs != 100 {
		t.Errorf("History() after retracting = %+v, want message 1 with the new content, its seq and time", msgs)
	}

	// A retracted message no longer lets its receiver download its media.
	if !canRead(t, s, appA, m.MediaID, b) {
		t.Fatalf("CanReadMedia(receiver) before retracting = false")
	}
	if err := s.Retract(ctx(t), appA, res[1].MsgID, a, prompt, 250); err != nil {
		t.Fatal(err)
	}
	checkReads(t, s, []readCase{
		{"the message carrying it was retracted", appA, m.MediaID, b, false},
		{"the uploader keeps it", appA, m.MediaID, a, true},
	})

	// Retention removes retracted messages like the others.
	if _, err := s.Purge(ctx(t), 260); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupMessage(ctx(t), appA, res[0].MsgID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupMessage(purged) = %v, want ErrNotFound", err)
	}
}

func sameRef(a, b store.MessageRef) bool {
	ac, bc := a.Content, b.Content
	a.Content, b.Content = nil, nil
	return reflect.DeepEqual(a, b) && string(ac) == string(bc)
}

// testRetractGroup: a group message is found with its group.
func testRetractGroup(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	g, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1}, store.GroupMember{UID: b, JoinTimeMs: 1})
	res := mustAppend(t, s, store.NewMessage{AppKey: appA, SenderUID: b, ConvID: g.ConvID, CTimeMs: 50, Content: []byte(`{"n":1}`)})
	ref, err := s.LookupMessage(ctx(t), appA, res[0].MsgID)
	if err != nil || ref.ConvType != jmsg.ConversationGroup || ref.GID != g.GID || ref.PeerUID != 0 || ref.SenderUID != b || ref.Retracted {
		t.Errorf("LookupMessage(group message) = %+v, %v; want group %d, sender %d", ref, err, g.GID, b)
	}
	if err := s.Retract(ctx(t), appA, res[0].MsgID, b, []byte(`{"n":2}`), 60); err != nil {
		t.Errorf("Retract(group message) = %v", err)
	}
	if ref, _ := s.LookupMessage(ctx(t), appA, res[0].MsgID); !ref.Retracted || string(ref.Content) != `{"n":2}` {
		t.Errorf("LookupMessage(retracted group message) = %+v, want retracted with the new content", ref)
	}
}

func mustReport(t testing.TB, s store.Store, q store.MessageQuery, pos store.ReportPos, offset, limit int) []int64 {
	t.Helper()
	msgs, err := s.ReportMessages(ctx(t), q, pos, offset, limit)
	if err != nil {
		t.Fatalf("ReportMessages(%+v, %+v, %d, %d) = %v", q, pos, offset, limit, err)
	}
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.MsgID
	}
	return ids
}

func mustCount(t testing.TB, s store.Store, q store.MessageQuery) int {
	t.Helper()
	n, err := s.CountReportMessages(ctx(t), q)
	if err != nil {
		t.Fatalf("CountReportMessages(%+v) = %v", q, err)
	}
	return n
}

// testReportApp: an app's messages by commit time in [from, to), in
// (time, id) order, paged by position or offset; never another app's.
func testReportApp(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	x := mustCreateUser(t, s, appB, "xavier")
	y := mustCreateUser(t, s, appB, "yvonne")
	// Appended out of time order: the report sorts by time, then id.
	r := mustAppend(t, s, msg(appA, a, b, "1", 2000), msg(appA, b, c, "2", 1000), msg(appA, c, a, "3", 2000))
	r = append(r, mustAppend(t, s, msg(appA, a, b, "4", 3000), msg(appA, a, c, "5", 999))...)
	mustAppend(t, s, msg(appB, x, y, "b1", 2000))
	id := func(i int) int64 { return r[i].MsgID }

	all := store.MessageQuery{AppKey: appA, FromMs: 0, ToMs: 1 << 62}
	if got, want := mustReport(t, s, all, store.ReportPos{}, 0, 100), []int64{id(4), id(1), id(0), id(2), id(3)}; !slices.Equal(got, want) {
		t.Errorf("ReportMessages(all) = %v, want %v", got, want)
	}
	if n := mustCount(t, s, all); n != 5 {
		t.Errorf("CountReportMessages(all) = %d, want 5", n)
	}
	window := store.MessageQuery{AppKey: appA, FromMs: 1000, ToMs: 3000}
	if got, want := mustReport(t, s, window, store.ReportPos{}, 0, 100), []int64{id(1), id(0), id(2)}; !slices.Equal(got, want) {
		t.Errorf("ReportMessages([1000, 3000)) = %v, want %v", got, want)
	}
	if n := mustCount(t, s, window); n != 3 {
		t.Errorf("CountReportMessages([1000, 3000)) = %d, want 3", n)
	}
	// Pages by position: after the first message of time 2000.
	if got, want := mustReport(t, s, all, store.ReportPos{CTimeMs: 2000, MsgID: id(0)}, 0, 100), []int64{id(2), id(3)}; !slices.Equal(got, want) {
		t.Errorf("ReportMessages(after (2000, %d)) = %v, want %v", id(0), got, want)
	}
	if got, want := mustReport(t, s, all, store.ReportPos{CTimeMs: 1000, MsgID: id(1)}, 0, 2), []int64{id(0), id(2)}; !slices.Equal(got, want) {
		t.Errorf("ReportMessages(after (1000, %d), 2) = %v, want %v", id(1), got, want)
	}
	// Pages by offset.
	if got, want := mustReport(t, s, all, store.ReportPos{}, 3, 100), []int64{id(2), id(3)}; !slices.Equal(got, want) {
		t.Errorf("ReportMessages(offset 3) = %v, want %v", got, want)
	}
	if got := mustReport(t, s, all, store.ReportPos{}, 5, 100); len(got) != 0 {
		t.Errorf("ReportMessages(offset past the end) = %v, want none", got)
	}
	if got := mustReport(t, s, store.MessageQuery{AppKey: appB, ToMs: 1 << 62}, store.ReportPos{}, 0, 100); len(got) != 1 {
		t.Errorf("ReportMessages(other app) = %v, want its one message", got)
	}
}

// testReportScopes: a conversation's messages, and a user's: sent,
// received, and of groups within the user's window only.
func testReportScopes(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	g, created := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1}, store.GroupMember{UID: b, JoinTimeMs: 1})
	gmsg := func(from int64, ms int64) store.NewMessage {
		return store.NewMessage{AppKey: appA, SenderUID: from, ConvID: g.ConvID, CTimeMs: ms, Content: []byte(`{}`)}
	}
	before := mustAppend(t, s, gmsg(b, 10), msg(appA, a, b, "ab", 20), msg(appA, b, c, "bc", 30))
	added := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: c, JoinTimeMs: 40}}, Event: event(appA, a, "add carol")})
	after := mustAppend(t, s, gmsg(c, 50), gmsg(a, 60))
	removed := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Remove: []int64{b}, Event: event(appA, a, "remove bobby")})
	late := mustAppend(t, s, gmsg(a, 70))
	all := func(q store.MessageQuery) store.MessageQuery { q.AppKey, q.FromMs, q.ToMs = appA, 0, 1<<62; return q }

	// The event messages have the time the test's event() gives them (1).
	conv := all(store.MessageQuery{ConvID: g.ConvID})
	wantConv := []int64{created.MsgID, added.MsgID, removed.MsgID, before[0].MsgID, after[0].MsgID, after[1].MsgID, late[0].MsgID}
	if got := mustReport(t, s, conv, store.ReportPos{}, 0, 100); !slices.Equal(got, wantConv) {
		t.Errorf("ReportMessages(group conversation) = %v, want %v", got, wantConv)
	}
	if n := mustCount(t, s, conv); n != len(wantConv) {
		t.Errorf("CountReportMessages(group conversation) = %d, want %d", n, len(wantConv))
	}
	if got := mustReport(t, s, store.MessageQuery{AppKey: appB, ConvID: g.ConvID, ToMs: 1 << 62}, store.ReportPos{}, 0, 100); len(got) != 0 {
		t.Errorf("ReportMessages(another app's conversation) = %v, want none", got)
	}

	for _, tc := range []struct {
		name string
		uid  int64
		want []int64
	}{
		{"alice", a, []int64{created.MsgID, added.MsgID, removed.MsgID, before[0].MsgID, before[1].MsgID, after[0].MsgID, after[1].MsgID, late[0].MsgID}},
		// bobby left with the removal event: nothing of the group after it.
		{"bobby", b, []int64{created.MsgID, added.MsgID, removed.MsgID, before[0].MsgID, before[1].MsgID, before[2].MsgID, after[0].MsgID, after[1].MsgID}},
		// carol joined with the add event: nothing of the group before it.
		{"carol", c, []int64{added.MsgID, removed.MsgID, before[2].MsgID, after[0].MsgID, after[1].MsgID, late[0].MsgID}},
	} {
		q := all(store.MessageQuery{UID: tc.uid})
		if got := mustReport(t, s, q, store.ReportPos{}, 0, 100); !slices.Equal(got, tc.want) {
			t.Errorf("ReportMessages(user %s) = %v, want %v", tc.name, got, tc.want)
		}
		if n := mustCount(t, s, q); n != len(tc.want) {
			t.Errorf("CountReportMessages(user %s) = %d, want %d", tc.name, n, len(tc.want))
		}
	}
	// A time range applies to a user's messages too.
	q := store.MessageQuery{AppKey: appA, UID: c, FromMs: 30, ToMs: 60}
	if got, want := mustReport(t, s, q, store.ReportPos{}, 0, 100), []int64{before[2].MsgID, after[0].MsgID}; !slices.Equal(got, want) {
		t.Errorf("ReportMessages(carol, [30, 60)) = %v, want %v", got, want)
	}
}
