package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// sendFrame sends req and returns the response frame.
func sendFrame(c *rawClient, req wire.SendReq) wire.Frame {
	c.t.Helper()
	return c.call(wire.OpSend, req)
}

// TestSensitiveWords: while the filter is on, a text message holding a
// listed word in any case is refused with 803009 naming the word, and
// reaches nobody; extras and other types are not matched; every change
// of the words or the switch applies to the next message.
func TestSensitiveWords(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby")
	cs := logins(t, ts, "alice", "bobby")
	alice, bob := cs[0], cs[1]
	ctx := t.Context()

	// The cache is loaded by the first message: the words come after it.
	alice.send("bobby", "", "before any word")
	bob.nextMsg()
	if err := ts.srv.AddSensitiveWords(ctx, ts.appKey, []string{"Spam", "坏蛋"}); err != nil {
		t.Fatalf("AddSensitiveWords() = %v", err)
	}
	refused := func(text, word string) {
		t.Helper()
		f := sendFrame(alice, textSend("bobby", "", text))
		if want := "the message contains sensitive word: " + word; f.Code != jmsg.TcpContentIsIllegal || f.Message != want {
			t.Errorf("send(%q) = %d %q, want 803009 %q", text, f.Code, f.Message, want)
		}
	}
	passes := func(req wire.SendReq) {
		t.Helper()
		var resp wire.SendResp
		alice.mustCall(wire.OpSend, req, &resp)
		if m := bob.nextMsg().Message; m.MsgID != resp.MsgID {
			t.Errorf("bob got message %d, want %d (and nothing refused before it)", m.MsgID, resp.MsgID)
		}
	}
	refused("buy SPAM now", "Spam")
	refused("你这个坏蛋!", "坏蛋")
	refused("spammer", "Spam")

	extras := textSend("bobby", "", "plain text")
	extras.Content.MsgBody = json.RawMessage(`{"text":"plain text","extras":{"note":"spam"}}`)
	passes(extras)
	custom := textSend("bobby", "", "")
	custom.Content.MsgType, custom.Content.MsgBody = "custom", json.RawMessage(`{"text":"spam"}`)
	passes(custom)

	if err := ts.srv.SetSensitiveWordFilter(ctx, ts.appKey, false); err != nil {
		t.Fatal(err)
	}
	passes(textSend("bobby", "", "spam while off"))
	if err := ts.srv.SetSensitiveWordFilter(ctx, ts.appKey, true); err != nil {
		t.Fatal(err)
	}
	refused("spam again", "Spam")

	if err := ts.srv.ReplaceSensitiveWord(ctx, ts.appKey, "spam", "junk"); err != nil {
		t.Fatalf("ReplaceSensitiveWord() = %v", err)
	}
	passes(textSend("bobby", "", "spam after the replacement"))
	refused("junk mail", "junk")
	if err := ts.srv.DeleteSensitiveWord(ctx, ts.appKey, "JUNK"); err != nil {
		t.Fatalf("DeleteSensitiveWord() = %v", err)
	}
	passes(textSend("bobby", "", "junk after the deletion"))

	// Sends of the REST API (as an admin, through Do) are filtered too.
	_, err := ts.srv.Do(ctx, ts.appKey, "alice", wire.OpSend, textSend("bobby", "", "坏蛋"), ActOptions{AsAdmin: true})
	if jmsg.CodeOf(err) != jmsg.TcpContentIsIllegal {
		t.Errorf("Do(send with a word) = %v, want 803009", err)
	}
	quiet(t, bob)
}

// TestSensitiveWordRules: the engine's checks of words and limits.
func TestSensitiveWordRules(t *testing.T) {
	ts := newTestServer(t, Config{})
	ctx := t.Context()
	for _, w := range []string{"", "elevenchars", "\x01ctl", string([]byte{0xff})} {
		if err := ts.srv.AddSensitiveWords(ctx, ts.appKey, []string{"ok", w}); !IsParamInvalid(err) {
			t.Errorf("AddSensitiveWords(%q) = %v, want 898003", w, err)
		}
	}
	if err := ts.srv.AddSensitiveWords(ctx, ts.appKey, []string{"一二三四五六七八九十"}); err != nil {
		t.Errorf("AddSensitiveWords(10 characters, 30 bytes) = %v", err)
	}
	if err := ts.srv.ReplaceSensitiveWord(ctx, ts.appKey, "一二三四五六七八九十", "elevenchars"); !IsParamInvalid(err) {
		t.Errorf("ReplaceSensitiveWord(to 11 characters) = %v, want 898003", err)
	}
	words := make([]string, SensitiveWordsMax)
	for i := range words {
		words[i] = "w" + itoa(i)
	}
	if err := ts.srv.AddSensitiveWords(ctx, ts.appKey, words); !errors.Is(err, store.ErrFull) {
		t.Errorf("AddSensitiveWords(1 + %d words) = %v, want ErrFull", SensitiveWordsMax, err)
	}
	if err := ts.srv.AddSensitiveWords(ctx, ts.appKey, words[1:]); err != nil {
		t.Errorf("AddSensitiveWords(1 + %d words) = %v", SensitiveWordsMax-1, err)
	}
	if err := ts.srv.DeleteSensitiveWord(ctx, ts.appKey, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteSensitiveWord(unlisted) = %v, want ErrNotFound", err)
	}
}

// countingWords is a store.Words whose WordFilter counts its calls and
// can run hook while a load is in flight.
type countingWords struct {
	store.Words
	loads atomic.Int32
	hook  func()
}

func (cw *countingWords) WordFilter(ctx context.Context, appKey string) (bool, []string, error) {
	cw.loads.Add(1)
	on, words, err := cw.Words.WordFilter(ctx, appKey)
	if cw.hook != nil {
		cw.hook()
	}
	return on, words, err
}

// TestWordCache: a list is read from the store once and kept until the
// engine changes it; a load that a change overtook is not kept.
func TestWordCache(t *testing.T) {
	ts := newTestServer(t, Config{})
	ctx := t.Context()
	cw := &countingWords{Words: ts.st}
	wc := newWordCache(cw)
	for range 3 {
		if _, err := wc.get(ctx, ts.appKey); err != nil {
			t.Fatal(err)
		}
	}
	if n := cw.loads.Load(); n != 1 {
		t.Errorf("3 reads of an app's list loaded it %d times, want once", n)
	}
	// A change lands while a load is in flight: the load's answer is used
	// once, not kept.
	if err := ts.st.AddWords(ctx, ts.appKey, []string{"late"}, 1, 100); err != nil {
		t.Fatal(err)
	}
	wc.changed(ts.appKey)
	cw.hook = func() { wc.changed(ts.appKey) }
	if _, err := wc.get(ctx, ts.appKey); err != nil {
		t.Fatal(err)
	}
	cw.hook = nil
	wl, err := wc.get(ctx, ts.appKey)
	if err != nil {
		t.Fatal(err)
	}
	if n := cw.loads.Load(); n != 3 {
		t.Errorf("loads after a change that overtook a load = %d, want 3 (the overtaken load is not kept)", n)
	}
	if wl.match("too LATE") != "late" {
		t.Errorf("list after reloading = %+v, want the new word", wl)
	}
	if n := cw.loads.Load(); n != 3 {
		t.Errorf("loads = %d, want 3", n)
	}
}
