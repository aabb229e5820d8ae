package client

import (
	"sync"
)

// Event is something that happened to the client. Receive events from
// Client.Events; the concrete types are below.
type Event interface{ isEvent() }

// MessageReceived is a message that arrived while online: from another
// user, or sent by the current user from another device (Received false).
type MessageReceived struct{ Message *Message }

// OfflineMessages are the messages of one conversation that arrived while
// the client was offline, delivered once per conversation after a sync, in
// sequence order.
type OfflineMessages struct {
	Conversation *Conversation
	Messages     []*Message
}

// GroupEvent reports a group event concerning the user: one stored in a
// group conversation (Message holds it, with an *EventContent), or a
// rejected join application (type 57, Message nil), which is not stored.
type GroupEvent struct {
	EventContent
	Message *Message
}

// MessageRetracted reports that a message held locally was retracted by
// its sender: its content is now a *PromptContent (PromptRetract) in the
// local store, and its local media files are deleted. It comes on the
// device that called RetractMessage, on the other devices online at the
// time (event 55), and on a device that was offline, once a sync after its
// reconnection has re-read the message (see Config.RetractWindow). A
// message first received already retracted comes as MessageReceived or
// OfflineMessages with the prompt instead.
type MessageRetracted struct {
	Conversation *Conversation
	Message      *Message
}

// SyncCompleted reports that the client has caught up with the server:
// every conversation changed before Cursor is stored locally. It follows
// each sync, the first one shortly after login. Reset is set when the
// server found the client's cursor older than its retention horizon and
// the client resynchronised every conversation from what it held.
type SyncCompleted struct {
	Cursor int64
	Reset  bool
}

// RoamingSynced reports that a conversation's history, received on the
// user's other devices before this one first logged in, is now stored
// locally (Config.Roaming). Messages that no device had received yet come
// as OfflineMessages instead.
type RoamingSynced struct{ Conversation *Conversation }

// HistoryTrimmed reports messages From..To (sequence numbers) of a
// conversation that the client never received and that the server no
// longer keeps (retention): they are gone, not silently skipped.
type HistoryTrimmed struct {
	Conversation *Conversation
	From, To     int64
}

// UnreadChanged reports that a conversation's unread count changed because
// it was read on another device.
type UnreadChanged struct{ Conversation *Conversation }

// SendResult reports the end of a send: Err is nil when the server has
// committed the message (status StatusSendSucceed), else the reason
// (status StatusSendFailed).
type SendResult struct {
	Message *Message
	Err     error
}

// LoginReason says why the login state changed.
type LoginReason int

// Login state changes.
const (
	LoginKicked           LoginReason = 1  // another login on the same platform took over (event 1)
	ServerAlterPassword   LoginReason = 2  // the password was changed on the server (event 2)
	LoginStatusUnexpected LoginReason = 70 // the server considers the session broken (event 70)
)

// LoginStateChanged reports that the session ended without Logout: the
// client is logged out and calls that need a session return 863004.
type LoginStateChanged struct{ Reason LoginReason }

// ConnState is the state of the connection to jmsgd.
type ConnState int

// Connection states.
const (
	Disconnected ConnState = iota
	Connecting
	Connected
)

func (s ConnState) String() string {
	return [...]string{"disconnected", "connecting", "connected"}[s]
}

// ConnStateChanged reports a change of the connection while logged in; Err
// holds the cause of a disconnection.
type ConnStateChanged struct {
	State ConnState
	Err   error
}

func (MessageReceived) isEvent()   {}
func (OfflineMessages) isEvent()   {}
func (SendResult) isEvent()        {}
func (SyncCompleted) isEvent()     {}
func (GroupEvent) isEvent()        {}
func (MessageRetracted) isEvent()  {}
func (RoamingSynced) isEvent()     {}
func (HistoryTrimmed) isEvent()    {}
func (UnreadChanged) isEvent()     {}
func (LoginStateChanged) isEvent() {}
func (ConnStateChanged) isEvent()  {}

// eventQueue buffers events without bound so that the SDK never blocks on
// an app that reads events slowly, and feeds them in order to a channel.
type eventQueue struct {
	mu     sync.Mutex // guards items and closed
	items  []Event
	closed bool
	wake   chan struct{} // capacity 1: items were added or the queue closed
	out    chan Event
	done   chan struct{} // closed when the pump has stopped
}

func newEventQueue() *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1), out: make(chan Event), done: make(chan struct{})}
	go q.pump()
	return q
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, e)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close stops the pump, dropping undelivered events, closes the channel and
// waits for the pump to end.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}

func (q *eventQueue) pump() {
	defer close(q.done)
	defer close(q.out)
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return
		}
		if len(q.items) == 0 {
			q.mu.Unlock()
			<-q.wake
			continue
		}
		e := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.mu.Unlock()
		select {
		case q.out <- e:
		case <-q.wake:
			q.mu.Lock()
			closed := q.closed
			if !closed {
				q.items = append([]Event{e}, q.items...)
			}
			q.mu.Unlock()
			if closed {
				return
			}
		}
	}
}

// Events of changes the app's back-end made through the REST API to what
// belongs to this user (sdk.md §13).
const (
	eventFriendsChanged   = 7  // the friend list (From: the other user, when it is theirs that changed too)
	eventNoDisturbChanged = 37 // the no-disturb settings
	eventBlacklistChanged = 38 // the blacklist
	eventShieldChanged    = 39 // the shielded groups
)

// SettingsChanged reports that the app's back-end changed this user's
// friends (EventType 7), no-disturb settings (37), blacklist (38) or
// shielded groups (39) through the REST API; the app re-reads what it
// shows of them.
type SettingsChanged struct {
	EventType int
	From      string
}

func (SettingsChanged) isEvent() {}
