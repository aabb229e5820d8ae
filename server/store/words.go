package store

import (
	"context"
	"errors"

	"github.com/jmsg-im/jmsg"
)

// ErrFull is returned when a change would take a list past its limit.
var ErrFull = errors.New("store: limit reached")

// Moderation is what jmsgd keeps to moderate and audit an app's messages:
// sensitive words, retractions and the report API's reads of history.
type Moderation interface {
	Words
	Retractions
	Reports
}

// SensitiveWord is a word of an app's filter and when it was added.
type SensitiveWord struct {
	Word    string
	CTimeMs int64
}

// Words stores each app's sensitive words and whether its filter is on.
// Words are compared by their strings.ToLower form: an app lists "Bad" or
// "bad", not both.
type Words interface {
	// AddWords adds words to appKey's list at nowMs, in one transaction.
	// A word listed already is left as it is (spelling and time). ErrFull,
	// with nothing added, when the list would hold more than max words.
	AddWords(ctx context.Context, appKey string, words []string, nowMs int64, max int) error
	// ReplaceWord replaces old with word, which gets the time nowMs;
	// ErrNotFound if old is not listed, ErrExists if word is listed and
	// is not old.
	ReplaceWord(ctx context.Context, appKey, old, word string, nowMs int64) error
	// DeleteWord removes word; ErrNotFound if it is not listed.
	DeleteWord(ctx context.Context, appKey, word string) error
	// ListWords returns count words of appKey from start, oldest first
	// (insert order), and how many there are in all.
	ListWords(ctx context.Context, appKey string, start, count int) ([]SensitiveWord, int, error)
	// WordFilter returns whether appKey's filter is on (it is until
	// SetWordFilter turns it off) and every listed word, oldest first,
	// read in one snapshot.
	WordFilter(ctx context.Context, appKey string) (on bool, words []string, err error)
	// SetWordFilter turns appKey's filter on or off.
	SetWordFilter(ctx context.Context, appKey string, on bool) error
}

// MessageRef is a stored message with what retracting it needs to know.
type MessageRef struct {
	StoredMessage
	ConvType jmsg.ConversationType
	GID      int64 // group conversations: the group
	// PeerUID is, in a single conversation, the sender's peer (the sender
	// itself in a conversation with oneself).
	PeerUID   int64
	Retracted bool
}

// Retractions stores retracted messages.
type Retractions interface {
	// LookupMessage returns message msgID of appKey; ErrNotFound if there
	// is none (never sent, another app's, or removed by retention).
	LookupMessage(ctx context.Context, appKey string, msgID int64) (MessageRef, error)
	// Retract replaces the content of message msgID with content, records
	// that uid retracted it at nowMs and forgets the media it carried (for
	// download permission), in one transaction. ErrNotFound if there is no
	// such message, ErrExists if it was retracted already. The message
	// keeps its id, conversation, sequence number and time.
	Retract(ctx context.Context, appKey string, msgID, uid int64, content []byte, nowMs int64) error
}

// MessageQuery selects an app's messages for the report API: those whose
// commit time is in [FromMs, ToMs), of every conversation, of one
// conversation (ConvID), or of one user (UID: the messages the user sent
// and those of the user's conversations within the user's window, as
// history shows them). ConvID and UID are not combined.
type MessageQuery struct {
	AppKey string
	ConvID int64
	UID    int64
	FromMs int64
	ToMs   int64
}

// ReportPos is a position in the report order, ascending (CTimeMs,
// MsgID): a page starts after it. The zero value is before everything.
type ReportPos struct {
	CTimeMs int64
	MsgID   int64
}

// Reports reads messages for the report API.
type Reports interface {
	// ReportMessages returns up to limit messages of q after pos, skipping
	// the first offset of them, in ascending (CTimeMs, MsgID) order.
	ReportMessages(ctx context.Context, q MessageQuery, pos ReportPos, offset, limit int) ([]StoredMessage, error)
	// CountReportMessages returns how many messages q selects.
	CountReportMessages(ctx context.Context, q MessageQuery) (int, error)
}
