package client

import (
	"context"
	"errors"
	"strconv"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
)

// Conversation is a conversation in the local store, as JMessage keeps
// them: created locally, identified by type and target. It is a snapshot;
// its methods act on the stored conversation.
type Conversation struct {
	Type        jmsg.ConversationType
	Target      string // single: the other user's username; group: the group id in decimal
	GroupID     int64  // group conversations: the group
	Title       string
	UnreadCount int
	LatestTime  int64 // ms of the newest message, 0 if none

	id int64
	c  *Client
}

// conversationByID loads a conversation snapshot.
func (c *Client) conversationByID(ctx context.Context, db *localstore.DB, id int64) (*Conversation, error) {
	r, err := db.ConversationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.convFromRow(r), nil
}

func (c *Client) convFromRow(r localstore.Conversation) *Conversation {
	cv := &Conversation{Type: jmsg.ConversationType(r.Type), Target: r.Target, Title: r.Title,
		UnreadCount: r.Unread, LatestTime: r.LatestTime, id: r.ID, c: c}
	if cv.Type == jmsg.ConversationGroup {
		cv.GroupID, _ = strconv.ParseInt(r.Target, 10, 64)
	}
	return cv
}

func (c *Client) messageFromRow(ctx context.Context, db *localstore.DB, r localstore.Message) (*Message, error) {
	conv, err := db.ConversationByID(ctx, r.ConvID)
	if err != nil {
		return nil, err
	}
	return fromRow(r, conv, db.Dir()), nil
}

// parseGID parses a group conversation's target: a positive decimal
// group id (866003 otherwise).
func parseGID(target string) (int64, error) {
	gid, err := strconv.ParseInt(target, 10, 64)
	if err != nil || gid <= 0 || jmsg.FormatID(gid) != target {
		return 0, jmsg.E(jmsg.SDKParamConversationGroupIdInvalid)
	}
	return gid, nil
}

// checkTarget validates a conversation's type and target: 866001 for an
// unknown type, 866002 for an invalid username, 866003 for an invalid
// group id, 868001 for chat rooms (not supported by this SDK).
func checkTarget(typ jmsg.ConversationType, target string) error {
	switch typ {
	case jmsg.ConversationSingle:
		if !jmsg.ValidUsername(target) {
			return jmsg.E(jmsg.SDKParamConversationUsernameInvalid)
		}
		return nil
	case jmsg.ConversationGroup:
		if _, err := parseGID(target); err != nil {
			return err
		}
		return nil
	case jmsg.ConversationChatRoom:
		return jmsg.E(jmsg.SDKChatRoomNotSupport)
	}
	return jmsg.E(jmsg.SDKParamConversationTypeUnknown)
}

// CreateSingleConversation returns the single conversation with username,
// creating it locally after checking with the server that the user exists
// (its nickname becomes the title). Errors: 861101, 866002, 863004, 898002
// (no such user), 860016.
func (c *Client) CreateSingleConversation(ctx context.Context, username string) (*Conversation, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if err := checkTarget(jmsg.ConversationSingle, username); err != nil {
		return nil, err
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	if r, err := s.db.ConversationByTarget(ctx, int(jmsg.ConversationSingle), username); err == nil {
		return c.convFromRow(r), nil
	}
	users, err := c.UserInfo(ctx, username)
	if err != nil {
		return nil, err
	}
	title := users[0].Nickname
	if title == "" {
		title = username
	}
	r, err := s.db.EnsureConversation(ctx, int(jmsg.ConversationSingle), username, title)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return c.convFromRow(r), nil
}

// CreateGroupConversation returns the conversation of group gid, creating
// it locally after asking the server for the group (its name becomes the
// title). Errors: 861101, 866003 (gid ≤ 0), 863004, 800018 (no such
// group), 860016.
func (c *Client) CreateGroupConversation(ctx context.Context, gid int64) (*Conversation, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if gid <= 0 {
		return nil, jmsg.E(jmsg.SDKParamConversationGroupIdInvalid)
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	target := jmsg.FormatID(gid)
	if r, err := s.db.ConversationByTarget(ctx, int(jmsg.ConversationGroup), target); err == nil {
		return c.convFromRow(r), nil
	}
	g, err := c.GroupInfo(ctx, gid)
	if err != nil {
		return nil, err
	}
	r, err := s.db.EnsureConversation(ctx, int(jmsg.ConversationGroup), target, g.Name)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return c.convFromRow(r), nil
}

// Conversation returns the local conversation of type typ with target (a
// username, or a group id in decimal), or 866004 if it does not exist.
// Errors: 866001, 866002, 866003, 863004.
func (c *Client) Conversation(typ jmsg.ConversationType, target string) (*Conversation, error) {
	if err := checkTarget(typ, target); err != nil {
		return nil, err
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	r, err := s.db.ConversationByTarget(context.Background(), int(typ), target)
	if errors.Is(err, localstore.ErrNotFound) {
		return nil, jmsg.E(jmsg.SDKParamConversationNotFound)
	}
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return c.convFromRow(r), nil
}

// Conversations returns every local conversation, the one with the newest
// message first. Errors: 863004.
func (c *Client) Conversations() ([]*Conversation, error) {
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Conversations(context.Background())
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	out := make([]*Conversation, len(rows))
	for i, r := range rows {
		out[i] = c.convFromRow(r)
	}
	return out, nil
}

// AllUnreadCount returns the sum of the unread counts of all
// conversations. Errors: 863004.
func (c *Client) AllUnreadCount() (int, error) {
	s, err := c.session()
	if err != nil {
		return 0, err
	}
	n, err := s.db.TotalUnread(context.Background())
	if err != nil {
		return 0, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return n, nil
}

// Refresh returns a fresh snapshot of the conversation.
func (cv *Conversation) Refresh() (*Conversation, error) {
	s, err := cv.c.session()
	if err != nil {
		return nil, err
	}
	r, err := s.db.ConversationByID(context.Background(), cv.id)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamConversationNotFound, err)
	}
	return cv.c.convFromRow(r), nil
}

// Messages returns up to limit messages, newest first, skipping the offset
// newest. Messages not yet sent come first; then by server order. Errors:
// 861101 (negative offset or limit), 863004.
func (cv *Conversation) Messages(offset, limit int) ([]*Message, error) {
	if offset < 0 || limit < 0 {
		return nil, jmsg.Errorf(jmsg.SDKParamInternalInvalid, "negative offset or limit")
	}
	s, err := cv.c.session()
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		return nil, nil
	}
	conv, err := s.db.ConversationByID(context.Background(), cv.id)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamConversationNotFound, err)
	}
	rows, err := s.db.Messages(context.Background(), cv.id, offset, limit)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	out := make([]*Message, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r, conv, s.db.Dir())
	}
	return out, nil
}

// LatestMessage returns the newest message, or nil if there is none.
func (cv *Conversation) LatestMessage() (*Message, error) {
	ms, err := cv.Messages(0, 1)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return ms[0], nil
}

// ClearUnread marks the conversation read up to its newest message: the
// unread count becomes 0 here and, through the server, on the user's other
// devices (at once if they are online, else at their next sync). Offline,
// the position is kept and sent on reconnect. Errors: 863004.
func (cv *Conversation) ClearUnread() error {
	s, err := cv.c.session()
	if err != nil {
		return err
	}
	if _, err := s.db.MarkRead(context.Background(), cv.id); err != nil {
		return jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	cv.UnreadCount = 0
	s.sendReads(context.Background())
	return nil
}
