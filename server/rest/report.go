package rest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// The report API's message history (rest-v1.md §14.1, §14.3), served on
// the same listener as the IM API: GET /v1/messages is history where POST
// is send. Records are the stored protocol documents with the server's
// fields (§3.4), in ascending send time (commit time, then id). Chat rooms
// are not served: /v2/chatrooms/{id}/messages is an unknown route.

func (a *API) reportRoutes() []route {
	return []route{
		{method: "GET", path: "/v2/messages", fn: a.historyV2(a.appScope)},
		{method: "GET", path: "/v2/users/{username}/messages", fn: a.historyV2(a.userScope)},
		{method: "GET", path: "/v2/groups/{gid}/messages", fn: a.historyV2(a.groupScope)},
		{method: "GET", path: "/v1/messages", fn: a.historyV1(a.appScope)},
		{method: "GET", path: "/v1/users/{username}/messages", fn: a.historyV1(a.userScope)},
	}
}

// Limits of the report API.
const (
	reportCountMax = 1000
	reportSpanMax  = 7 * 24 * time.Hour
	cursorTTL      = 120 * time.Second
)

// reportScope is what a history path selects: the query without its
// time range, a key naming it for cursors, and whether its time bounds
// are exclusive (§14.1: the user and group forms are strict, /messages
// is inclusive).
type reportScope struct {
	q      store.MessageQuery
	key    string
	strict bool
}

type scopeFunc func(r *http.Request, app store.App) (reportScope, error)

func (a *API) appScope(r *http.Request, app store.App) (reportScope, error) {
	return reportScope{q: store.MessageQuery{AppKey: app.AppKey}, key: "app"}, nil
}

// userScope is the messages a user sent or received, in single and group
// conversations (within the user's membership); 899003 for a malformed
// username, 899002 for an unknown one.
func (a *API) userScope(r *http.Request, app store.App) (reportScope, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return reportScope{}, err
	}
	return reportScope{q: store.MessageQuery{AppKey: app.AppKey, UID: u.UID}, key: "user:" + strconv.FormatInt(u.UID, 10), strict: true}, nil
}

// groupScope is a group's conversation, its event messages included, also
// after the group was dissolved; 899003 for a malformed gid, 899006 for
// an unknown one.
func (a *API) groupScope(r *http.Request, app store.App) (reportScope, error) {
	gid, err := strconv.ParseInt(r.PathValue("gid"), 10, 64)
	if err != nil || gid <= 0 {
		return reportScope{}, badParam()
	}
	g, err := a.st.Group(r.Context(), app.AppKey, gid)
	if errors.Is(err, store.ErrNotFound) {
		return reportScope{}, fail(jmsg.RestGroupIDInvalid)
	}
	if err != nil {
		return reportScope{}, err
	}
	return reportScope{q: store.MessageQuery{AppKey: app.AppKey, ConvID: g.ConvID}, key: "group:" + strconv.FormatInt(gid, 10), strict: true}, nil
}

// timeRange sets q's [FromMs, ToMs) from begin and end ("yyyy-MM-dd
// HH:mm:ss" in the API's zone), at most 7 days apart. Times compare at
// the second: inclusive bounds take every message of the end second,
// strict ones none of the begin and end seconds.
func (a *API) timeRange(q *store.MessageQuery, begin, end string, strict bool) error {
	b, err1 := time.ParseInLocation(timeLayout, begin, a.cfg.Location)
	e, err2 := time.ParseInLocation(timeLayout, end, a.cfg.Location)
	if err1 != nil || err2 != nil || e.Before(b) || e.Sub(b) > reportSpanMax {
		return badParam()
	}
	q.FromMs, q.ToMs = b.UnixMilli(), e.UnixMilli()+1000
	if strict {
		q.FromMs, q.ToMs = b.UnixMilli()+1000, e.UnixMilli()
	}
	return nil
}

// reportCursor is the state of a v2 listing between pages, handed to the
// caller signed (reportCursor.encode) so that any jmsgd sharing the store
// can serve the next page and nothing is kept in memory.
type reportCursor struct {
	App     string `json:"a"`
	Scope   string `json:"s"`
	FromMs  int64  `json:"f"`
	ToMs    int64  `json:"t"`
	PosMs   int64  `json:"pm"`
	PosID   int64  `json:"pi"`
	Count   int    `json:"c"`
	Total   int    `json:"n"`
	Expires int64  `json:"e"` // unix seconds
}

// cursorKey is the HMAC key of cursors, a server secret shared through the
// store.
func (a *API) cursorKey(ctx context.Context) ([]byte, error) {
	return a.st.Secret(ctx, "report-cursor", func() []byte {
		b := make([]byte, 32)
		rand.Read(b)
		return b
	})
}

func (a *API) encodeCursor(ctx context.Context, c reportCursor) (string, error) {
	key, err := a.cursorKey(ctx)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(b)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(b) + "." + enc.EncodeToString(mac.Sum(nil)[:16]), nil
}

// decodeCursor checks s's signature and returns its state; false for a
// cursor that is malformed, forged or expired at now.
func (a *API) decodeCursor(ctx context.Context, s string, now time.Time) (reportCursor, bool, error) {
	var c reportCursor
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return c, false, nil
	}
	enc := base64.RawURLEncoding
	b, err1 := enc.DecodeString(s[:dot])
	sig, err2 := enc.DecodeString(s[dot+1:])
	if err1 != nil || err2 != nil {
		return c, false, nil
	}
	key, err := a.cursorKey(ctx)
	if err != nil {
		return c, false, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(b)
	if !hmac.Equal(sig, mac.Sum(nil)[:16]) || json.Unmarshal(b, &c) != nil || now.Unix() > c.Expires {
		return reportCursor{}, false, nil
	}
	return c, true, nil
}

// historyV2 is GET …/messages?count=&begin_time=&end_time= and its
// follow-up …/messages?cursor=: count ≤ 1000, a window of at most 7 days;
// 200 {"total", "cursor", "count", "messages"}, the cursor (valid 120
// seconds) absent on the last page. Every parameter error, an expired
// cursor and one of another path are 899003.
func (a *API) historyV2(scope scopeFunc) handlerFunc {
	return func(r *http.Request, app store.App) (int, any, error) {
		sc, err := scope(r, app)
		if err != nil {
			return 0, nil, err
		}
		now := time.Now()
		qv := r.URL.Query()
		var cur reportCursor
		if qv.Has("cursor") {
			var ok bool
			cur, ok, err = a.decodeCursor(r.Context(), qv.Get("cursor"), now)
			if err != nil {
				return 0, nil, err
			}
			if !ok || cur.App != app.AppKey || cur.Scope != sc.key {
				return 0, nil, badParam()
			}
			sc.q.FromMs, sc.q.ToMs = cur.FromMs, cur.ToMs
		} else {
			count, err := strconv.Atoi(qv.Get("count"))
			if err != nil || count < 1 || count > reportCountMax {
				return 0, nil, badParam()
			}
			if err := a.timeRange(&sc.q, qv.Get("begin_time"), qv.Get("end_time"), sc.strict); err != nil {
				return 0, nil, err
			}
			total, err := a.st.CountReportMessages(r.Context(), sc.q)
			if err != nil {
				return 0, nil, err
			}
			cur = reportCursor{App: app.AppKey, Scope: sc.key, FromMs: sc.q.FromMs, ToMs: sc.q.ToMs, Count: count, Total: total}
		}
		msgs, err := a.st.ReportMessages(r.Context(), sc.q, store.ReportPos{CTimeMs: cur.PosMs, MsgID: cur.PosID}, 0, cur.Count+1)
		if err != nil {
			return 0, nil, err
		}
		out := map[string]any{"total": cur.Total}
		if len(msgs) > cur.Count {
			msgs = msgs[:cur.Count]
			last := msgs[len(msgs)-1]
			cur.PosMs, cur.PosID, cur.Expires = last.CTimeMs, last.MsgID, now.Add(cursorTTL).Unix()
			s, err := a.encodeCursor(r.Context(), cur)
			if err != nil {
				return 0, nil, err
			}
			out["cursor"] = s
		}
		out["count"] = len(msgs)
		out["messages"] = a.records(app, msgs)
		return http.StatusOK, out, nil
	}
}

// historyV1 is the legacy GET /v1/messages?start=&count=&begin_time=&end_time=
// (and the user form): offset paging with count ≤ 1000; the times are
// optional (no bound where missing) and inclusive, with no limit on the
// window. 200 {"total", "start", "count", "messages"}.
func (a *API) historyV1(scope scopeFunc) handlerFunc {
	return func(r *http.Request, app store.App) (int, any, error) {
		sc, err := scope(r, app)
		if err != nil {
			return 0, nil, err
		}
		start, count, err := page(r, reportCountMax)
		if err != nil {
			return 0, nil, err
		}
		qv := r.URL.Query()
		sc.q.FromMs, sc.q.ToMs = 0, 1<<62
		if begin := qv.Get("begin_time"); begin != "" {
			b, err := time.ParseInLocation(timeLayout, begin, a.cfg.Location)
			if err != nil {
				return 0, nil, badParam()
			}
			sc.q.FromMs = b.UnixMilli()
		}
		if end := qv.Get("end_time"); end != "" {
			e, err := time.ParseInLocation(timeLayout, end, a.cfg.Location)
			if err != nil {
				return 0, nil, badParam()
			}
			sc.q.ToMs = e.UnixMilli() + 1000
		}
		if sc.q.ToMs < sc.q.FromMs {
			return 0, nil, badParam()
		}
		total, err := a.st.CountReportMessages(r.Context(), sc.q)
		if err != nil {
			return 0, nil, err
		}
		msgs, err := a.st.ReportMessages(r.Context(), sc.q, store.ReportPos{}, start, count)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"total": total, "start": start, "count": len(msgs), "messages": a.records(app, msgs)}, nil
	}
}

// reportRecord is a message as the report API shows it (§3.4): the
// envelope of the stored document, its body, and the server's fields.
type reportRecord struct {
	Version      int             `json:"version"`
	TargetType   string          `json:"target_type"`
	TargetID     string          `json:"target_id"`
	TargetName   string          `json:"target_name"`
	TargetAppKey string          `json:"target_appkey"`
	FromType     string          `json:"from_type"`
	FromID       string          `json:"from_id"`
	FromName     string          `json:"from_name"`
	FromAppKey   string          `json:"from_appkey"`
	FromPlatform string          `json:"from_platform"`
	CreateTime   int64           `json:"create_time"`
	MsgType      string          `json:"msg_type"`
	MsgBody      json.RawMessage `json:"msg_body"`
	MsgID        int64           `json:"msgid"`
	MsgCTime     int64           `json:"msg_ctime"`
	MsgLevel     int             `json:"msg_level"`
	SetFromName  *int            `json:"set_from_name,omitempty"`
}

// records renders stored messages. Same-app messages name the app in
// both app keys (msg_level 0); create_time is in seconds even when the
// sender wrote milliseconds; group records carry set_from_name, 1 when
// the sender set from_name. A retracted message shows its prompt.
func (a *API) records(app store.App, msgs []store.StoredMessage) []reportRecord {
	out := make([]reportRecord, 0, len(msgs))
	for _, m := range msgs {
		var d jmsg.Doc
		json.Unmarshal(m.Content, &d) // stored documents are checked JSON
		rec := reportRecord{
			Version: d.Version, TargetType: d.TargetType, TargetID: d.TargetID, TargetName: d.TargetName, TargetAppKey: d.TargetAppKey,
			FromType: d.FromType, FromID: d.FromID, FromName: d.FromName, FromAppKey: d.FromAppKey, FromPlatform: d.FromPlatform,
			CreateTime: d.CreateTime, MsgType: d.MsgType, MsgBody: d.MsgBody, MsgID: m.MsgID, MsgCTime: m.CTimeMs,
		}
		if rec.TargetAppKey == "" {
			rec.TargetAppKey = app.AppKey
		}
		if rec.FromAppKey == "" {
			rec.FromAppKey = app.AppKey
		}
		if rec.CreateTime > 1e11 {
			rec.CreateTime /= 1000
		}
		if len(rec.MsgBody) == 0 {
			rec.MsgBody = json.RawMessage(`{}`)
		}
		if d.TargetType == "group" {
			set := 0
			if d.FromName != "" {
				set = 1
			}
			rec.SetFromName = &set
		}
		out = append(out, rec)
	}
	return out
}
