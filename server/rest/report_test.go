package rest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/rest"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/server/store/sqlite"
)

// restEnv is an engine with cfg and the REST API on 127.0.0.1, with the
// golden files' app, for what the golden files cannot show: values taken
// from one answer into the next request, and engine settings.
type restEnv struct {
	t   testing.TB
	url string
	loc *time.Location
}

func newRestEnv(t testing.TB, cfg server.Config) *restEnv {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jmsg.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateApp(t.Context(), store.App{AppKey: appKey, MasterSecret: appSecret, CTimeMs: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost, cfg.SendPerMinute, cfg.RequestsPerSecond = 4, -1, -1
	eng, err := server.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rest.New(eng, st, rest.Config{RatePerMinute: -1, Location: loc}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		eng.Close()
		st.Close()
	})
	return &restEnv{t: t, url: srv.URL, loc: loc}
}

// call makes a request as the app and returns the status and the body.
func (e *restEnv) call(method, path, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(appKey, appSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// must is call that fails unless the status is want, decoding the body
// into out (if not nil).
func (e *restEnv) must(method, path, body string, want int, out any) {
	e.t.Helper()
	status, b := e.call(method, path, body)
	if status != want {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
}

// wantError fails unless the call answers status with code.
func (e *restEnv) wantError(method, path, body string, status, code int) {
	e.t.Helper()
	var out struct {
		Error struct{ Code int } `json:"error"`
	}
	e.must(method, path, body, status, &out)
	if out.Error.Code != code {
		e.t.Errorf("%s %s: error code %d, want %d", method, path, out.Error.Code, code)
	}
}

// setupSends registers admin ops1 and users bobby and carol and sends n
// text messages from ops1, alternately to bobby and carol; it returns
// the replies.
func (e *restEnv) setupSends(n int) []sendReply {
	e.t.Helper()
	e.must("POST", "/v1/admins/", `{"username":"ops1","password":"password"}`, 201, nil)
	e.must("POST", "/v1/users/", `[{"username":"bobby","password":"password"},{"username":"carol","password":"password"}]`, 201, nil)
	out := make([]sendReply, n)
	for i := range out {
		to := []string{"bobby", "carol"}[i%2]
		e.must("POST", "/v1/messages", `{"version":1,"target_type":"single","target_id":"`+to+`","from_type":"admin","from_id":"ops1",
			"msg_type":"text","msg_body":{"text":"m"}}`, 201, &out[i])
	}
	return out
}

type sendReply struct {
	MsgID    int64 `json:"msg_id"`
	MsgCTime int64 `json:"msg_ctime"`
}

type historyPage struct {
	Total    int    `json:"total"`
	Count    int    `json:"count"`
	Cursor   string `json:"cursor"`
	Messages []struct {
		MsgID    int64 `json:"msgid"`
		MsgCTime int64 `json:"msg_ctime"`
	} `json:"messages"`
}

func (p historyPage) ids() []int64 {
	out := []int64{}
	for _, m := range p.Messages {
		out = append(out, m.MsgID)
	}
	return out
}

// at formats ms as a query time, moved by d.
func (e *restEnv) at(ms int64, d time.Duration) string {
	return url.QueryEscape(time.UnixMilli(ms).Add(d).In(e.loc).Format("2006-01-02 15:04:05"))
}

// TestReportCursor: following cursors pages through the window in order,
// each page with the first page's total; a cursor is refused on another
// path, altered, or after the last page.
func TestReportCursor(t *testing.T) {
	e := newRestEnv(t, server.Config{})
	sent := e.setupSends(7)
	window := "begin_time=" + e.at(sent[0].MsgCTime, -time.Hour) + "&end_time=" + e.at(sent[0].MsgCTime, time.Hour)

	var got []int64
	var p historyPage
	e.must("GET", "/v2/messages?count=3&"+window, "", 200, &p)
	for page := 1; ; page++ {
		got = append(got, p.ids()...)
		if p.Total != 7 || p.Count != len(p.Messages) {
			t.Errorf("page %d: total %d count %d with %d messages, want total 7", page, p.Total, p.Count, len(p.Messages))
		}
		if p.Cursor == "" {
			break
		}
		if page > 3 {
			t.Fatalf("still a cursor after page %d", page)
		}
		cursor := p.Cursor
		p = historyPage{}
		e.must("GET", "/v2/messages?cursor="+url.QueryEscape(cursor), "", 200, &p)
		if page == 1 {
			// The cursor names its path: another path refuses it.
			e.wantError("GET", "/v2/users/bobby/messages?cursor="+url.QueryEscape(cursor), "", 400, 899003)
			e.wantError("GET", "/v2/messages?cursor="+url.QueryEscape(cursor[:len(cursor)-2]+"AA"), "", 400, 899003)
			e.wantError("GET", "/v2/messages?cursor="+url.QueryEscape("x"+cursor), "", 400, 899003)
		}
	}
	want := []int64{}
	for _, s := range sent {
		want = append(want, s.MsgID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages = %v, want every message once in order %v", got, want)
	}

	// A user's listing pages the same way.
	p = historyPage{}
	e.must("GET", "/v2/users/bobby/messages?count=2&"+window, "", 200, &p)
	ids, cursor := p.ids(), p.Cursor
	p = historyPage{}
	e.must("GET", "/v2/users/bobby/messages?cursor="+url.QueryEscape(cursor), "", 200, &p)
	ids = append(ids, p.ids()...)
	if !slices.Equal(ids, []int64{sent[0].MsgID, sent[2].MsgID, sent[4].MsgID, sent[6].MsgID}) || p.Cursor != "" || p.Total != 4 {
		t.Errorf("bobby's pages = %v (total %d, cursor %q), want his 4 messages", ids, p.Total, p.Cursor)
	}
}

// TestReportBounds: /v2/messages takes both bounds inclusively, the
// scoped forms strictly, at the second; /v1 inclusively.
func TestReportBounds(t *testing.T) {
	e := newRestEnv(t, server.Config{})
	sent := e.setupSends(1)
	ms := sent[0].MsgCTime
	for _, tc := range []struct {
		path       string
		begin, end time.Duration
		want       int
	}{
		{"/v2/messages?count=5", 0, 0, 1},
		{"/v2/users/bobby/messages?count=5", 0, time.Second, 0},
		{"/v2/users/bobby/messages?count=5", -time.Second, 0, 0},
		{"/v2/users/bobby/messages?count=5", -time.Second, time.Second, 1},
		{"/v1/messages?start=0&count=5", 0, 0, 1},
		{"/v1/users/bobby/messages?start=0&count=5", 0, 0, 1},
		{"/v1/messages?start=0&count=5", time.Second, 2 * time.Second, 0},
	} {
		var p historyPage
		path := tc.path + "&begin_time=" + e.at(ms, tc.begin) + "&end_time=" + e.at(ms, tc.end)
		e.must("GET", path, "", 200, &p)
		if p.Total != tc.want || len(p.Messages) != tc.want {
			t.Errorf("GET %s (message at %d ms) = total %d, %d messages; want %d", path, ms, p.Total, len(p.Messages), tc.want)
		}
	}
}

// TestRetractOutOfTime: past the engine's RetractWindow, the REST retract
// answers 403 855001 and the message stays.
func TestRetractOutOfTime(t *testing.T) {
	e := newRestEnv(t, server.Config{RetractWindow: time.Millisecond})
	sent := e.setupSends(1)
	// Let the window pass: nothing to wait for but the clock.
	time.Sleep(20 * time.Millisecond)
	e.wantError("POST", "/v1/messages/ops1/"+itoa64(sent[0].MsgID)+"/retract", "", 403, 855001)
	var p struct {
		Messages []struct {
			MsgType string `json:"msg_type"`
		} `json:"messages"`
	}
	e.must("GET", "/v1/messages?start=0&count=5", "", 200, &p)
	if len(p.Messages) != 1 || p.Messages[0].MsgType != "text" {
		t.Errorf("history after a refused retract = %+v, want the text message", p.Messages)
	}
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
