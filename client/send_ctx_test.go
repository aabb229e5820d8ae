package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

// A send whose deadline has passed before the message was queued still
// queues it: it goes out and arrives. A send whose context was cancelled
// before is withdrawn (865011) and never arrives.
func TestSendWithAnEndedContext(t *testing.T) {
	d := jmsgdtest.Start(t)
	alice, bobby := newClient(t, d), newClient(t, d)
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bobby, "bobby")
	conv, err := alice.CreateSingleConversation(testCtx(t), "bobby")
	if err != nil {
		t.Fatal(err)
	}

	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	m, err := conv.SendText(expired, "late but sent", nil)
	if err != nil && jmsg.CodeOf(err) != jmsg.SDKNetworkOtherError {
		t.Fatalf("SendText with a past deadline = %v, want 860016 (still queued) or success", err)
	}
	if m == nil || m.Status == jmsg.StatusSendDraft {
		t.Fatalf("message after a past-deadline send: %+v, want it queued, not a draft", m)
	}

	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	_, err = conv.SendText(cancelled, "withdrawn", nil)
	wantCode(t, "SendText with a cancelled context", err, jmsg.SDKMessageCancelSend)

	if _, err := conv.SendText(testCtx(t), "after both", nil); err != nil {
		t.Fatal(err)
	}
	jmsgdtest.WaitFor(t, "bobby to hold the sent messages", 20*time.Second, func() bool {
		c, err := bobby.Conversation(jmsg.ConversationSingle, "alice")
		if err != nil {
			return false
		}
		ms, _ := c.Messages(0, 100)
		return len(ms) == 2
	})
	c, _ := bobby.Conversation(jmsg.ConversationSingle, "alice")
	ms, _ := c.Messages(0, 100)
	for _, m := range ms {
		if m.Text() == "withdrawn" {
			t.Fatalf("a withdrawn message arrived")
		}
	}
	texts := map[string]bool{}
	for _, m := range ms {
		texts[m.Text()] = true
	}
	if !texts["late but sent"] || !texts["after both"] {
		t.Fatalf("bobby holds %v", texts)
	}
}
