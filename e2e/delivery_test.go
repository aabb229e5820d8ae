package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
	"github.com/jmsg-im/jmsg/wire"
)

// Delivery guarantees of the SDK against the real jmsgd: the cost of a
// catch-up, roaming versus offline messages on new devices, unread counts
// shared by a user's devices, a sync cursor older than the retention
// horizon, and sends queued while the server is down.

// newDevice returns an SDK client for the daemon's app on the data
// directory dir (a device), closed at the end of the test.
func newDevice(t testing.TB, d *daemon, platform, dir string, roaming bool) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: d.URL, DataDir: dir, Platform: platform, Roaming: roaming})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// login logs c in as username (password as registerAndLogin sets it).
func login(t testing.TB, c *client.Client, username string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Login(ctx, username, "secret-"+username); err != nil {
		t.Fatalf("Login(%q) = %v", username, err)
	}
}

// register creates username without logging anyone in.
func register(t testing.TB, d *daemon, username string) {
	t.Helper()
	c := newClient(t, d, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Register(ctx, username, "secret-"+username, nil); err != nil {
		t.Fatalf("Register(%q) = %v", username, err)
	}
}

// logout logs c out.
func logout(t testing.TB, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Logout(ctx); err != nil {
		t.Fatalf("Logout = %v", err)
	}
}

// until returns the events that come before the next event of type T, and
// that event; it fails after timeout.
func until[T client.Event](t testing.TB, col *collector, timeout time.Duration) ([]client.Event, T) {
	t.Helper()
	deadline := time.After(timeout)
	var before []client.Event
	for {
		select {
		case e := <-col.ch:
			if v, ok := e.(T); ok {
				return before, v
			}
			before = append(before, e)
		case <-deadline:
			var zero T
			t.Fatalf("no %T event within %v", zero, timeout)
			return before, zero
		}
	}
}

// stored returns the messages of a local conversation, oldest first; nil
// if the conversation does not exist.
func stored(t testing.TB, c *client.Client, typ jmsg.ConversationType, target string) []*client.Message {
	t.Helper()
	conv, err := c.Conversation(typ, target)
	if jmsg.CodeOf(err) == jmsg.SDKParamConversationNotFound {
		return nil
	}
	if err != nil {
		t.Fatalf("Conversation(%d, %q) = %v", typ, target, err)
	}
	ms, err := conv.Messages(0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// textsOf returns the texts of the text messages among ms, in order.
func textsOf(ms []*client.Message) []string {
	var out []string
	for _, m := range ms {
		if _, ok := m.Content.(*client.TextContent); ok {
			out = append(out, m.Text())
		}
	}
	return out
}

// checkSequence fails unless ms (oldest first) have distinct server ids
// and strictly increasing sequence numbers.
func checkSequence(t testing.TB, who string, ms []*client.Message) {
	t.Helper()
	ids := map[int64]bool{}
	for i, m := range ms {
		if m.ServerMessageID == 0 || m.Seq == 0 {
			t.Fatalf("%s: message %d (%q) has server id %d, seq %d", who, i, m.Text(), m.ServerMessageID, m.Seq)
		}
		if ids[m.ServerMessageID] {
			t.Fatalf("%s: message %d (server id %d, %q) stored twice", who, i, m.ServerMessageID, m.Text())
		}
		ids[m.ServerMessageID] = true
		if i > 0 && m.Seq <= ms[i-1].Seq {
			t.Fatalf("%s: seq %d follows seq %d", who, m.Seq, ms[i-1].Seq)
		}
	}
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first
// error.
func parallel(workers, n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	work := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return first
}

// rawSession is a bare protocol connection. The catch-up test sends its
// 10,000 messages through one, because an SDK client's local store makes
// sending that many take minutes under -race.
type rawSession struct {
	ws      *websocket.Conn
	next    uint64
	pending [][]byte // frames of a batch not yet returned
}

// rawLogin opens a protocol session of username on platform.
func rawLogin(t testing.TB, d *daemon, username, platform string) *rawSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.TrimSuffix(strings.Replace(d.URL, "http://", "ws://", 1), "/")+"/v1/ws",
		&websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	r := &rawSession{ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	if err := r.call(ctx, wire.OpInit, wire.InitReq{AppKey: d.AppKey, Version: wire.Version, Platform: platform}); err != nil {
		t.Fatalf("init: %v", err)
	}
	if err := r.call(ctx, wire.OpLogin, wire.LoginReq{Username: username, Password: "secret-" + username}); err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return r
}

func (r *rawSession) write(ctx context.Context, op string, in any) (uint64, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	r.next++
	b, err := wire.Encode(&wire.Frame{Op: op, ID: r.next, Data: data})
	if err != nil {
		return 0, err
	}
	return r.next, r.ws.Write(ctx, websocket.MessageText, b)
}

// read returns the next response, skipping pushes and unpacking batches.
func (r *rawSession) read(ctx context.Context) (*wire.Frame, error) {
	for {
		if len(r.pending) == 0 {
			_, b, err := r.ws.Read(ctx)
			if err != nil {
				return nil, err
			}
			if r.pending, err = wire.SplitBatch(b); err != nil {
				return nil, err
			}
		}
		b := r.pending[0]
		r.pending = r.pending[1:]
		var f wire.Frame
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, err
		}
		if f.ID != 0 {
			return &f, nil
		}
	}
}

// call runs one request; no other may be in flight.
func (r *rawSession) call(ctx context.Context, op string, in any) error {
	id, err := r.write(ctx, op, in)
	if err != nil {
		return err
	}
	f, err := r.read(ctx)
	if err != nil {
		return err
	}
	if f.ID != id {
		return fmt.Errorf("%s: response to request %d, want %d", op, f.ID, id)
	}
	return f.Err()
}

// sendTexts sends the texts to their groups with up to window sends in
// flight, in order, and waits until the server has committed them all.
// The client ids are "<prefix>-<index>": a sender's client ids must differ
// across its sessions, since the server takes a repeated one for a retry.
func (r *rawSession) sendTexts(ctx context.Context, from, cidPrefix string, gids []int64, texts []string, window int) error {
	slots := make(chan struct{}, window)
	werr := make(chan error, 1)
	go func() {
		for i, text := range texts {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				werr <- ctx.Err()
				return
			}
			body, _ := json.Marshal(jmsg.TextBody{Text: text})
			doc := jmsg.Doc{Version: 1, TargetType: "group", TargetID: jmsg.FormatID(gids[i]), FromType: "user", FromID: from,
				CreateTime: time.Now().Unix(), MsgType: "text", MsgBody: body}
			if _, err := r.write(ctx, wire.OpSend, wire.SendReq{ClientMsgID: fmt.Sprintf("%s-%d", cidPrefix, i), Content: doc}); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for range texts {
		f, err := r.read(ctx)
		if err != nil {
			return err
		}
		if f.Op != wire.OpSend {
			return fmt.Errorf("unexpected response %s", f.Op)
		}
		if err := f.Err(); err != nil {
			return err
		}
		<-slots
	}
	return <-werr
}

// TestCatchUpCostsRoundTripsPerConversation: a user who was offline while
// 10,000 messages arrived in 200 conversations catches up in a number of
// requests that grows with the conversations, not the messages, and holds
// every message afterwards.
func TestCatchUpCostsRoundTripsPerConversation(t *testing.T) {
	const convs, perConv = 200, 50
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The reader logs in once, after a first message, so that it keeps a
	// sync cursor; then it is offline.
	register(t, d, "reader")
	writer := newClient(t, d, "")
	registerAndLogin(t, writer, "writer")
	if conv, err := writer.CreateSingleConversation(ctx, "reader"); err != nil {
		t.Fatal(err)
	} else if _, err := conv.SendText(ctx, "hello", nil); err != nil {
		t.Fatal(err)
	}
	reader := newClient(t, d, "")
	readerEvents := collect(t, reader)
	login(t, reader, "reader")
	if _, first := until[client.SyncCompleted](t, readerEvents, 20*time.Second); first.Cursor == 0 {
		t.Fatal("the reader's first sync left no cursor")
	}
	logout(t, reader)

	start := time.Now()
	gids := make([]int64, convs)
	if err := parallel(16, convs, func(i int) error {
		g, err := writer.CreateGroup(ctx, client.GroupOptions{Name: fmt.Sprintf("g%03d", i), Members: []string{"reader"}})
		if err != nil {
			return fmt.Errorf("CreateGroup %d: %w", i, err)
		}
		gids[i] = g.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("created %d groups in %v", convs, time.Since(start).Round(time.Millisecond))
	// The SDK writer would store every message it sends; a bare protocol
	// session of the writer sends them instead, 50 rounds over the groups.
	// (One session: the writer's other sessions would get every message
	// pushed.)
	logout(t, writer)
	raw := rawLogin(t, d, "writer", wire.PlatformWeb)
	var targets []int64
	var texts []string
	for n := range perConv {
		for i, gid := range gids {
			targets = append(targets, gid)
			texts = append(texts, fmt.Sprintf("g%d-%d", i, n))
		}
	}
	if err := raw.sendTexts(ctx, "writer", "raw", targets, texts, 256); err != nil {
		t.Fatalf("sending: %v", err)
	}
	t.Logf("sent %d messages in %d groups in %v", convs*perConv, convs, time.Since(start).Round(time.Millisecond))

	before := reader.Stats().Requests
	start = time.Now()
	login(t, reader, "reader")
	evs, done := until[client.SyncCompleted](t, readerEvents, 2*time.Minute)
	requests := reader.Stats().Requests - before
	t.Logf("catch-up of %d messages in %d conversations: %d requests (login included), %v, cursor %d",
		convs*perConv, convs, requests, time.Since(start).Round(time.Millisecond), done.Cursor)
	if done.Reset {
		t.Errorf("SyncCompleted.Reset is set without any purge")
	}

	// Every message is stored, once, in order.
	for i, gid := range gids {
		who := fmt.Sprintf("reader's group %d (%d)", i, gid)
		ms := stored(t, reader, jmsg.ConversationGroup, jmsg.FormatID(gid))
		checkSequence(t, who, ms)
		texts := textsOf(ms)
		if len(texts) != perConv {
			t.Fatalf("%s holds %d texts, want %d", who, len(texts), perConv)
		}
		seen := map[string]bool{}
		for _, text := range texts {
			if !strings.HasPrefix(text, fmt.Sprintf("g%d-", i)) || seen[text] {
				t.Fatalf("%s holds %q (duplicate or foreign)", who, text)
			}
			seen[text] = true
		}
	}
	// ... and reported once per conversation as offline messages.
	batches, offlineTexts := map[string]int{}, 0
	for _, e := range evs {
		if off, ok := e.(client.OfflineMessages); ok {
			batches[off.Conversation.Target]++
			offlineTexts += len(textsOf(off.Messages))
		}
	}
	if len(batches) != convs || offlineTexts != convs*perConv {
		t.Errorf("OfflineMessages: %d conversations with %d texts, want %d with %d", len(batches), offlineTexts, convs, convs*perConv)
	}
	for target, n := range batches {
		if n != 1 {
			t.Errorf("conversation %s reported in %d OfflineMessages events, want 1", target, n)
		}
	}

	if limit := int64(2*convs + 20); requests > limit {
		t.Fatalf("catch-up took %d requests, want at most %d (2 per conversation + 20)", requests, limit)
	}
	if requests*10 > convs*perConv {
		t.Fatalf("catch-up took %d requests for %d messages", requests, convs*perConv)
	}
}

// TestRoaming: a new device with Config.Roaming downloads the history its
// user's other device had (RoamingSynced), without reporting it as offline
// messages; a new device without roaming gets none of it, but does get, as
// OfflineMessages, what arrived while every device was offline.
func TestRoaming(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	a := newDevice(t, d, wire.PlatformAndroid, t.TempDir(), false)
	registerAndLogin(t, a, "alice")
	bob, carol := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, bob, "bob01")
	registerAndLogin(t, carol, "carol")

	send := func(c *client.Client, to, text string) {
		t.Helper()
		conv, err := c.CreateSingleConversation(ctx, to)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conv.SendText(ctx, text, nil); err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
	}
	waitHolds := func(c *client.Client, peer string, n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d messages with %s", n, peer), 20*time.Second, func() bool {
			return len(stored(t, c, jmsg.ConversationSingle, peer)) == n
		})
	}
	// With bob, alice's device A receives last; with carol, it sends last.
	send(bob, "alice", "b1")
	waitHolds(a, "bob01", 1)
	send(a, "bob01", "a1")
	send(bob, "alice", "b2")
	waitHolds(a, "bob01", 3)
	send(a, "carol", "a-c1")
	waitHolds(a, "carol", 1)
	send(carol, "alice", "c1")
	waitHolds(a, "carol", 2)
	send(a, "carol", "a-c2")
	want := map[string][]string{"bob01": {"b1", "a1", "b2"}, "carol": {"a-c1", "c1", "a-c2"}}
	for peer, texts := range want {
		if got := textsOf(stored(t, a, jmsg.ConversationSingle, peer)); !slicesEqual(got, texts) {
			t.Fatalf("device A holds %q with %s, want %q", got, peer, texts)
		}
	}
	// The server writes delivered positions every 500ms.
	time.Sleep(1500 * time.Millisecond)

	// B, with roaming: everything A holds, as history.
	b := newDevice(t, d, wire.PlatformIOS, t.TempDir(), true)
	bEvents := collect(t, b)
	login(t, b, "alice")
	evs, _ := until[client.SyncCompleted](t, bEvents, 30*time.Second)
	roamed := map[string]int{}
	for _, e := range evs {
		switch e := e.(type) {
		case client.RoamingSynced:
			roamed[e.Conversation.Target]++
		case client.OfflineMessages:
			var desc []string
			for _, m := range e.Messages {
				desc = append(desc, fmt.Sprintf("seq %d %q from %s", m.Seq, m.Text(), m.From))
			}
			t.Errorf("roaming device B got OfflineMessages for %s: %s; every one of them was held by device A before B logged in",
				e.Conversation.Target, strings.Join(desc, ", "))
		}
	}
	if len(roamed) != 2 || roamed["bob01"] != 1 || roamed["carol"] != 1 {
		t.Errorf("RoamingSynced events per conversation = %v, want one for bob01 and one for carol", roamed)
	}
	for peer, texts := range want {
		ms := stored(t, b, jmsg.ConversationSingle, peer)
		checkSequence(t, "device B with "+peer, ms)
		if got := textsOf(ms); !slicesEqual(got, texts) {
			t.Fatalf("device B holds %q with %s, want %q", got, peer, texts)
		}
		for _, m := range ms {
			mine := m.From == "alice"
			if m.Received == mine {
				t.Errorf("device B: %q from %s has Received %v", m.Text(), m.From, m.Received)
			}
			if wantStatus := map[bool]jmsg.MessageStatus{true: jmsg.StatusSendSucceed, false: jmsg.StatusReceiveSucceed}[mine]; m.Status != wantStatus {
				t.Errorf("device B: %q from %s has status %d, want %d", m.Text(), m.From, m.Status, wantStatus)
			}
		}
	}
	time.Sleep(1500 * time.Millisecond) // B's acks are written

	// C, without roaming: nothing delivered before.
	c := newDevice(t, d, wire.PlatformWeb, t.TempDir(), false)
	cEvents := collect(t, c)
	login(t, c, "alice")
	evs, _ = until[client.SyncCompleted](t, cEvents, 30*time.Second)
	for _, e := range evs {
		switch e := e.(type) {
		case client.RoamingSynced:
			t.Errorf("non-roaming device C got RoamingSynced for %s", e.Conversation.Target)
		case client.OfflineMessages:
			t.Errorf("non-roaming device C got %d OfflineMessages for %s: %q", len(e.Messages), e.Conversation.Target, textsOf(e.Messages))
		}
	}
	for peer := range want {
		if ms := stored(t, c, jmsg.ConversationSingle, peer); len(ms) != 0 {
			t.Errorf("non-roaming device C holds %q with %s, want nothing", textsOf(ms), peer)
		}
	}

	// Every device of alice offline; bob sends; a new device without
	// roaming gets exactly that message, as OfflineMessages.
	for _, dev := range []*client.Client{a, b, c} {
		logout(t, dev)
	}
	send(bob, "alice", "while away")
	time.Sleep(1500 * time.Millisecond)
	dd := newDevice(t, d, wire.PlatformWeb, t.TempDir(), false)
	dEvents := collect(t, dd)
	login(t, dd, "alice")
	evs, _ = until[client.SyncCompleted](t, dEvents, 30*time.Second)
	var offline []client.OfflineMessages
	for _, e := range evs {
		switch e := e.(type) {
		case client.RoamingSynced:
			t.Errorf("non-roaming device D got RoamingSynced for %s", e.Conversation.Target)
		case client.OfflineMessages:
			offline = append(offline, e)
		}
	}
	if len(offline) != 1 || offline[0].Conversation.Target != "bob01" || !slicesEqual(textsOf(offline[0].Messages), []string{"while away"}) {
		var desc []string
		for _, o := range offline {
			desc = append(desc, fmt.Sprintf("%s: %q", o.Conversation.Target, textsOf(o.Messages)))
		}
		t.Fatalf("device D's OfflineMessages = %v, want bob01: [\"while away\"]", desc)
	}
	if m := offline[0].Messages[0]; m.Seq != 4 || !m.Received {
		t.Errorf("offline message: seq %d received %v, want seq 4 received", m.Seq, m.Received)
	}
	if got := textsOf(stored(t, dd, jmsg.ConversationSingle, "bob01")); !slicesEqual(got, []string{"while away"}) {
		t.Errorf("device D holds %q with bob01", got)
	}
	if got := stored(t, dd, jmsg.ConversationSingle, "carol"); len(got) != 0 {
		t.Errorf("device D holds %q with carol", textsOf(got))
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestUnreadAgreesAcrossDevices: a conversation's unread count is the same
// on all of a user's devices whichever of them reads, also for a device
// that was offline when the other one read.
func TestUnreadAgreesAcrossDevices(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	peer := newClient(t, d, "")
	registerAndLogin(t, peer, "peer1")
	// Some traffic first, so that the devices' first sync leaves a cursor
	// (on an empty server it stays 0: see
	// TestRoamingOffSkipsDeliveredOnlyOnFirstLogin).
	register(t, d, "other")
	if toOther, err := peer.CreateSingleConversation(ctx, "other"); err != nil {
		t.Fatal(err)
	} else if _, err := toOther.SendText(ctx, "hello", nil); err != nil {
		t.Fatal(err)
	}
	dev1 := newDevice(t, d, wire.PlatformAndroid, t.TempDir(), false)
	registerAndLogin(t, dev1, "carol")
	dev2dir := t.TempDir()
	dev2 := newDevice(t, d, wire.PlatformWindows, dev2dir, false)
	login(t, dev2, "carol")
	toCarol, err := peer.CreateSingleConversation(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	peerSends := func(n int) {
		t.Helper()
		for range n {
			sent++
			if _, err := toCarol.SendText(ctx, fmt.Sprintf("p%d", sent), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	unread := func(c *client.Client) int {
		conv, err := c.Conversation(jmsg.ConversationSingle, "peer1")
		if err != nil {
			return -1
		}
		return conv.UnreadCount
	}
	holds := func(c *client.Client, n int) bool { return len(stored(t, c, jmsg.ConversationSingle, "peer1")) == n }
	both := func(step string, total, want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			u1, u2 := unread(dev1), unread(dev2)
			if holds(dev1, total) && holds(dev2, total) && u1 == want && u2 == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: unread %d on device 1 and %d on device 2, want %d on both (holding %d and %d messages, want %d)",
					step, u1, u2, want, len(stored(t, dev1, jmsg.ConversationSingle, "peer1")),
					len(stored(t, dev2, jmsg.ConversationSingle, "peer1")), total)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// And it stays so.
		time.Sleep(200 * time.Millisecond)
		if u1, u2 := unread(dev1), unread(dev2); u1 != want || u2 != want {
			t.Fatalf("%s: unread moved to %d and %d, want %d", step, u1, u2, want)
		}
		for i, c := range []*client.Client{dev1, dev2} {
			if all, err := c.AllUnreadCount(); err != nil || all != want {
				t.Fatalf("%s: device %d AllUnreadCount = %d, %v, want %d", step, i+1, all, err, want)
			}
		}
	}
	clear := func(c *client.Client) {
		t.Helper()
		conv, err := c.Conversation(jmsg.ConversationSingle, "peer1")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := conv.ClearUnread(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 5*time.Second {
			// ClearUnread waits for the server's answer to the read, for up
			// to the request timeout.
			t.Errorf("ClearUnread took %v: the server did not answer the read position", took)
		}
		if conv, _ = conv.Refresh(); conv.UnreadCount != 0 {
			t.Fatalf("unread right after ClearUnread = %d", conv.UnreadCount)
		}
	}

	peerSends(5)
	both("peer sent 5", 5, 5)
	clear(dev1)
	both("device 1 read", 5, 0)
	peerSends(3)
	both("peer sent 3 more", 8, 3)
	clear(dev2)
	both("device 2 read", 8, 0)
	peerSends(2)
	both("peer sent 2 more", 10, 2)
	conv1, err := dev1.Conversation(jmsg.ConversationSingle, "peer1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv1.SendText(ctx, "reply", nil); err != nil {
		t.Fatal(err)
	}
	both("device 1 replied", 11, 2)

	// Device 2 goes offline; device 1 reads what arrives meanwhile, then
	// one more message comes. Back online, device 2 counts only that one.
	dev2.Close()
	peerSends(4)
	waitFor(t, "device 1 to receive", 20*time.Second, func() bool { return holds(dev1, 15) })
	clear(dev1)
	peerSends(1)
	waitFor(t, "device 1 to receive", 20*time.Second, func() bool { return holds(dev1, 16) && unread(dev1) == 1 })
	time.Sleep(1500 * time.Millisecond) // device 1's delivered positions are written
	dev2 = newDevice(t, d, wire.PlatformWindows, dev2dir, false)
	dev2Events := collect(t, dev2)
	login(t, dev2, "carol")
	evs, _ := until[client.SyncCompleted](t, dev2Events, 30*time.Second)
	changed := false
	for _, e := range evs {
		if u, ok := e.(client.UnreadChanged); ok && u.Conversation.Target == "peer1" {
			changed = true
		}
	}
	if !changed {
		t.Errorf("device 2 got no UnreadChanged for the conversation read on device 1 while it was offline")
	}
	if u := unread(dev2); u != 1 {
		t.Errorf("device 2 right after its sync: unread %d, want 1", u)
	}
	both("device 2 back after device 1 read", 16, 1)

	// Read on the device that came back: 0 everywhere.
	clear(dev2)
	both("device 2 read again", 16, 0)
}

// TestSyncCursorTooOld: a client whose sync cursor predates a purge is told
// to resynchronise (Reset), learns which messages it will never get
// (HistoryTrimmed, exactly the purged range) and stores every message the
// server still keeps, once and in order.
func TestSyncCursorTooOld(t *testing.T) {
	d := jmsgdtest.StartWithConfig(t, "history_retention = \"2s\"\npurge_interval = \"200ms\"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reader := newClient(t, d, "")
	readerEvents := collect(t, reader)
	register(t, d, "reader")
	// writer1's conversation keeps a tail after the purge; everything
	// writer2 sent after the reader's sync is purged.
	w1, w2 := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, w1, "writer1")
	registerAndLogin(t, w2, "writer2")
	to1, err := w1.CreateSingleConversation(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	to2, err := w2.CreateSingleConversation(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	sendAll := func(conv *client.Conversation, texts ...string) {
		t.Helper()
		for _, text := range texts {
			if _, err := conv.SendText(ctx, text, nil); err != nil {
				t.Fatalf("send %q: %v", text, err)
			}
		}
	}

	// The reader syncs while messages exist, so it has a cursor.
	sendAll(to1, "old1", "old2", "old3")
	sendAll(to2, "old-w2")
	login(t, reader, "reader")
	_, first := until[client.SyncCompleted](t, readerEvents, 20*time.Second)
	if first.Cursor == 0 {
		t.Fatal("first sync left the cursor at 0")
	}
	if got := textsOf(stored(t, reader, jmsg.ConversationSingle, "writer1")); !slicesEqual(got, []string{"old1", "old2", "old3"}) {
		t.Fatalf("reader holds %q from writer1 after the first sync", got)
	}
	logout(t, reader)

	// Keep a young message on the server, in a conversation the reader is
	// not in, so that no purge empties the messages table: a jmsgd that
	// reuses message ids once every message is purged (see
	// TestServerIDsUniqueAfterTooOldPurge) would make this test fail for
	// that reason instead of for its own.
	stopKeeping, keeping := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(keeping)
		toW1, err := w2.CreateSingleConversation(ctx, "writer1")
		if err != nil {
			t.Error(err)
			return
		}
		for i := 0; ; i++ {
			select {
			case <-stopKeeping:
				return
			case <-time.After(250 * time.Millisecond):
			}
			if _, err := toW1.SendText(ctx, fmt.Sprintf("keep %d", i), nil); err != nil {
				t.Errorf("keeper send: %v", err)
				return
			}
		}
	}()
	defer func() { close(stopKeeping); <-keeping }()
	time.Sleep(time.Second)

	// Sent while the reader is away, and purged before it comes back.
	sendAll(to1, "gone4", "gone5", "gone6", "gone7", "gone8")
	sendAll(to2, "gone2", "gone3", "gone4")
	time.Sleep(3 * time.Second) // retention 2s, purge every 200ms
	sendAll(to1, "new9", "new10", "new11")

	login(t, reader, "reader")
	evs, done := until[client.SyncCompleted](t, readerEvents, 20*time.Second)
	trimmed := map[string][]client.HistoryTrimmed{}
	offline := map[string][]string{}
	for _, e := range evs {
		switch e := e.(type) {
		case client.HistoryTrimmed:
			trimmed[e.Conversation.Target] = append(trimmed[e.Conversation.Target], e)
		case client.OfflineMessages:
			offline[e.Conversation.Target] = append(offline[e.Conversation.Target], textsOf(e.Messages)...)
		}
	}
	var trims []string
	for target, list := range trimmed {
		for _, tr := range list {
			trims = append(trims, fmt.Sprintf("%s %d..%d", target, tr.From, tr.To))
		}
	}
	t.Logf("second sync: cursor %d → %d, reset %v, trimmed %v", first.Cursor, done.Cursor, done.Reset, trims)
	if !done.Reset {
		t.Errorf("SyncCompleted.Reset = false after a purge newer than the cursor (server reset did not trigger)")
	}

	t.Run("kept tail", func(t *testing.T) {
		tr := trimmed["writer1"]
		if len(tr) != 1 || tr[0].From != 4 || tr[0].To != 8 {
			t.Errorf("HistoryTrimmed for writer1 = %+v, want one event From 4 To 8", tr)
		}
		if got := offline["writer1"]; !slicesEqual(got, []string{"new9", "new10", "new11"}) {
			t.Errorf("OfflineMessages for writer1 = %q, want the three kept", got)
		}
		ms := stored(t, reader, jmsg.ConversationSingle, "writer1")
		checkSequence(t, "reader with writer1", ms)
		wantTexts := []string{"old1", "old2", "old3", "new9", "new10", "new11"}
		if got := textsOf(ms); !slicesEqual(got, wantTexts) {
			t.Fatalf("reader holds %q from writer1, want %q", got, wantTexts)
		}
		var seqs []int64
		for _, m := range ms {
			seqs = append(seqs, m.Seq)
		}
		if fmt.Sprint(seqs) != "[1 2 3 9 10 11]" {
			t.Fatalf("reader's seqs with writer1 = %v, want [1 2 3 9 10 11]", seqs)
		}
	})
	t.Run("nothing kept", func(t *testing.T) {
		tr := trimmed["writer2"]
		if len(tr) != 1 || tr[0].From != 2 || tr[0].To != 4 {
			t.Errorf("HistoryTrimmed for writer2 = %+v, want one event From 2 To 4 (every message after the reader's sync was purged)", tr)
		}
		if got := offline["writer2"]; len(got) != 0 {
			t.Errorf("OfflineMessages for writer2 = %q, want none", got)
		}
		ms := stored(t, reader, jmsg.ConversationSingle, "writer2")
		checkSequence(t, "reader with writer2", ms)
		if got := textsOf(ms); !slicesEqual(got, []string{"old-w2"}) {
			t.Fatalf("reader holds %q from writer2, want [old-w2]", got)
		}
	})

	// Online again: the next message is pushed and stored after the tail;
	// a gap fill must not bring anything back nor report the trim again.
	sendAll(to1, "live12")
	waitFor(t, "the live message", 20*time.Second, func() bool {
		return len(stored(t, reader, jmsg.ConversationSingle, "writer1")) == 7
	})
	ms := stored(t, reader, jmsg.ConversationSingle, "writer1")
	checkSequence(t, "reader with writer1 after a live message", ms)
	if last := ms[len(ms)-1]; last.Text() != "live12" || last.Seq != 12 {
		t.Fatalf("last message = %q seq %d", last.Text(), last.Seq)
	}
}

// TestServerIDsUniqueAfterTooOldPurge: a message's server id names it for
// ever; once retention has purged every message, new messages must not
// get the ids of purged ones, which clients still hold.
func TestServerIDsUniqueAfterTooOldPurge(t *testing.T) {
	d := jmsgdtest.StartWithConfig(t, "history_retention = \"2s\"\npurge_interval = \"200ms\"\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	alice, bob := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bob, "bob01")
	conv, err := alice.CreateSingleConversation(ctx, "bob01")
	if err != nil {
		t.Fatal(err)
	}
	old := map[int64]string{}
	for _, text := range []string{"m1", "m2"} {
		m, err := conv.SendText(ctx, text, nil)
		if err != nil {
			t.Fatal(err)
		}
		old[m.ServerMessageID] = text
	}
	waitFor(t, "bob to receive", 20*time.Second, func() bool { return len(stored(t, bob, jmsg.ConversationSingle, "alice")) == 2 })
	time.Sleep(3 * time.Second) // both purged: the server holds no message

	m, err := conv.SendText(ctx, "m3", nil)
	if err != nil {
		t.Errorf("send after the purge = %v", err)
	} else if text, reused := old[m.ServerMessageID]; reused {
		t.Errorf("m3 got server id %d, the id of purged %q", m.ServerMessageID, text)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(stored(t, bob, jmsg.ConversationSingle, "alice")) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ms := stored(t, bob, jmsg.ConversationSingle, "alice")
	if got := textsOf(ms); !slicesEqual(got, []string{"m1", "m2", "m3"}) {
		var desc []string
		for _, m := range ms {
			desc = append(desc, fmt.Sprintf("%q id %d seq %d", m.Text(), m.ServerMessageID, m.Seq))
		}
		t.Errorf("bob holds %s; want m1, m2, m3 (m3 pushed after the purge)", strings.Join(desc, ", "))
	}
	for _, m := range stored(t, alice, jmsg.ConversationSingle, "bob01") {
		if m.Text() == "m3" && (m.Status != jmsg.StatusSendSucceed || m.Seq != 3) {
			t.Errorf("alice's m3: status %d seq %d, want %d seq 3", m.Status, m.Seq, jmsg.StatusSendSucceed)
		}
	}
}

// TestRoamingOffSkipsDeliveredOnlyOnFirstLogin: without roaming, only a
// device's first login skips what the user's other devices received. A
// device that has logged in before, even when the server was still empty,
// gets what arrived while it was away.
func TestRoamingOffSkipsDeliveredOnlyOnFirstLogin(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	x := newDevice(t, d, wire.PlatformAndroid, t.TempDir(), false)
	xEvents := collect(t, x)
	registerAndLogin(t, x, "alice")
	_, first := until[client.SyncCompleted](t, xEvents, 20*time.Second)
	t.Logf("device X's first sync on an empty server: cursor %d", first.Cursor)
	logout(t, x)

	y := newDevice(t, d, wire.PlatformWindows, t.TempDir(), false)
	login(t, y, "alice")
	bob := newClient(t, d, "")
	registerAndLogin(t, bob, "bob01")
	conv, err := bob.CreateSingleConversation(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"one", "two", "three"} {
		if _, err := conv.SendText(ctx, text, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "device Y to receive", 20*time.Second, func() bool { return len(stored(t, y, jmsg.ConversationSingle, "bob01")) == 3 })
	time.Sleep(1500 * time.Millisecond) // Y's delivered positions are written

	login(t, x, "alice")
	evs, _ := until[client.SyncCompleted](t, xEvents, 20*time.Second)
	var offline []string
	for _, e := range evs {
		if o, ok := e.(client.OfflineMessages); ok {
			offline = append(offline, textsOf(o.Messages)...)
		}
	}
	if got := textsOf(stored(t, x, jmsg.ConversationSingle, "bob01")); !slicesEqual(got, []string{"one", "two", "three"}) || !slicesEqual(offline, got) {
		t.Fatalf("device X, back after an earlier login, holds %q and got OfflineMessages %q; want one, two, three as offline messages", got, offline)
	}
}

// TestOfflineSendsGoOutOnReconnect: messages sent while the server is down
// stay queued (StatusSending) and go out once, in order, when the client
// has reconnected by itself.
func TestOfflineSendsGoOutOnReconnect(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice, bob := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bob, "bob01")
	aliceEvents := collect(t, alice)
	conv, err := alice.CreateSingleConversation(ctx, "bob01")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.SendText(ctx, "before", nil); err != nil {
		t.Fatal(err)
	}

	d.Kill()
	for {
		st := next[client.ConnStateChanged](t, aliceEvents, 20*time.Second)
		if st.State == client.Disconnected {
			break
		}
	}
	const n = 5
	ids := map[int64]string{}
	for i := range n {
		text := fmt.Sprintf("queued %d", i)
		sctx, scancel := context.WithTimeout(ctx, 500*time.Millisecond)
		m, err := conv.SendText(sctx, text, nil)
		scancel()
		if jmsg.CodeOf(err) != jmsg.SDKNetworkOtherError {
			t.Fatalf("send %q with the server down = %v, want 860016", text, err)
		}
		if m == nil || m.Status != jmsg.StatusSending || m.ServerMessageID != 0 {
			t.Fatalf("send %q with the server down returned %+v, want status %d", text, m, jmsg.StatusSending)
		}
		ids[m.ID] = text
	}
	for _, m := range stored(t, alice, jmsg.ConversationSingle, "bob01") {
		if _, queued := ids[m.ID]; queued && m.Status != jmsg.StatusSending {
			t.Fatalf("stored %q has status %d while the server is down", m.Text(), m.Status)
		}
	}

	d.Restart()
	results := map[string]client.SendResult{}
	deadline := time.After(45 * time.Second)
	for len(results) < n {
		select {
		case e := <-aliceEvents.ch:
			r, ok := e.(client.SendResult)
			if !ok || r.Message == nil {
				continue
			}
			text, queued := ids[r.Message.ID]
			if !queued {
				continue
			}
			if _, dup := results[text]; dup {
				t.Fatalf("two SendResult events for %q", text)
			}
			if r.Err != nil || r.Message.Status != jmsg.StatusSendSucceed {
				t.Fatalf("SendResult for %q: status %d, err %v", text, r.Message.Status, r.Err)
			}
			results[text] = r
		case <-deadline:
			t.Fatalf("only %d of %d SendResult events within 45s after the restart", len(results), n)
		}
	}
	for i := range n {
		text := fmt.Sprintf("queued %d", i)
		if seq := results[text].Message.Seq; seq != int64(i+2) {
			t.Errorf("%q committed as seq %d, want %d (in order after \"before\")", text, seq, i+2)
		}
	}

	wantTexts := []string{"before", "queued 0", "queued 1", "queued 2", "queued 3", "queued 4"}
	waitFor(t, "bob to hold every message", 30*time.Second, func() bool {
		return len(stored(t, bob, jmsg.ConversationSingle, "alice")) >= len(wantTexts)
	})
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive by now
	for who, c := range map[string]*client.Client{"bob": bob, "alice": alice} {
		peerName := map[string]string{"bob": "alice", "alice": "bob01"}[who]
		ms := stored(t, c, jmsg.ConversationSingle, peerName)
		checkSequence(t, who, ms)
		if got := textsOf(ms); !slicesEqual(got, wantTexts) {
			t.Fatalf("%s holds %q, want %q", who, got, wantTexts)
		}
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Fatalf("%s's message %d (%q) has seq %d", who, i, m.Text(), m.Seq)
			}
			if who == "alice" && m.Status != jmsg.StatusSendSucceed {
				t.Fatalf("alice's %q has status %d", m.Text(), m.Status)
			}
		}
	}
}
