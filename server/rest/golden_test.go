package rest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/media"
	"github.com/jmsg-im/jmsg/server/rest"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/server/store/sqlite"
	"github.com/jmsg-im/jmsg/wire"
)

var update = flag.Bool("update", false, "rewrite the responses of testdata/golden/*.txt with what the server answers (review the diff against the spec before committing)")

// The golden files (testdata/golden/*.txt) pin the REST API as a caller
// sees it: each is a sequence of exchanges run in order against a fresh
// server, so that a later exchange can show what an earlier one changed or
// did not change.
//
//	# Lines starting with # before the first exchange describe the file.
//
//	=== title of the exchange
//	# optional comment lines
//	PUT /v1/users/alice
//	Authorization: app
//	Content-Type: application/json; charset=utf-8
//
//	{"nickname": "Alice"}
//	---
//	204 No Content
//	X-Rate-Limit-Quota: 600
//	...
//
// The request is a request line, header lines, a blank line and the body
// (to the "---" line). The request text is a text/template first, with
// {{repeat "x" 65}}, {{names "user" 501}} (a JSON array of usernames
// user0001…), {{users "user" 501}} (register items with password
// "password"), {{appkey}}, {{secret}} and {{time "-1h"}} (now moved by a
// duration, as "yyyy-MM-dd HH:mm:ss" in Asia/Shanghai escaped for a query). An Authorization header whose
// value is one of these words is expanded to Basic credentials: app (the
// test app), app-upper (its key in upper case), other-app (a second app),
// wrong-secret (the app's key with another secret), unknown-app (a key no
// app has); "basic TEXT" is "Basic " + base64(TEXT). Any other value is
// sent as written.
//
// Two steps act on the client protocol instead of REST, for the online
// status endpoints: "LOGIN user password platform" opens a WebSocket
// session and logs in (answered "ok" or "error CODE MESSAGE"), and
// "DISCONNECT user platform" closes it; both wait until the engine sees
// the session up or down.
//
// The response is the status line, the headers that matter (Content-Type,
// Allow and the four X-Rate-Limit headers, in that order; a header left out
// must be absent), a blank line and the body. A JSON body is compared token
// by token: whitespace does not matter, but key order, number spelling and
// string escapes do, exactly as the server writes them; -update writes it
// indented. A body that is not JSON is compared as text. What is not
// deterministic is replaced before comparing, after being checked:
// "ctime"/"mtime"/"itime" values become "<time>" when they are
// "yyyy-MM-dd HH:mm:ss" in Asia/Shanghai within the test's run,
// "msg_ctime" (ms) and "create_time" (s) become "<ms>" and "<s>" when
// within the run, a "cursor" string becomes "<cursor>",
// X-Rate-Limit-Reset becomes <1..60> when it is in that range, and the app
// keys become <appkey> and <other-appkey>. A value failing its check is
// left as it is and so fails the comparison.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files in testdata/golden")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			runGolden(t, file)
		})
	}
}

// TestGoldenLayout checks that each golden file is in the layout -update
// writes, so that an update rewrites responses and nothing else.
func TestGoldenLayout(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := parseGolden(t, string(raw)).String(); got != string(raw) {
			t.Errorf("%s is not in the layout -update writes (one blank line between exchanges, none at the ends of parts); run go test -run Golden -update and review the diff", file)
		}
	}
}

// Credentials of the harness's apps. The keys are lower case so that
// their upper-case spelling is a different string.
const (
	appKey      = "4f7aef34fb361292c566a1cd"
	appSecret   = "054d6103823a726fc12d0466"
	otherKey    = "9c0e1d2b3a4f5e6d7c8b9a01"
	otherSecret = "f0e1d2c3b4a5968778695a4b"
	unknownKey  = "0123456789abcdef01234567"
	wrongSecret = "054d6103823a726fc12d0467"
	waitTimeout = 10 * time.Second
)

// harness is a real engine with a SQLite store and the REST API behind an
// HTTP server on 127.0.0.1.
type harness struct {
	t        testing.TB
	url      string
	eng      *server.Server
	st       store.Store
	loc      *time.Location
	start    time.Time
	sessions map[string]*websocket.Conn // "user/platform" → logged-in connection
}

func newHarness(t testing.TB, cfg rest.Config) *harness {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jmsg.db"))
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	for _, app := range []store.App{{AppKey: appKey, MasterSecret: appSecret, Name: "golden"}, {AppKey: otherKey, MasterSecret: otherSecret, Name: "other"}} {
		app.CTimeMs = time.Now().UnixMilli()
		if err := st.CreateApp(t.Context(), app); err != nil {
			t.Fatalf("CreateApp(%s) = %v", app.AppKey, err)
		}
	}
	blobs, err := media.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	eng, err := server.New(server.Config{BcryptCost: 4, SendPerMinute: -1, RequestsPerSecond: -1,
		Media: server.MediaConfig{Store: blobs, StagingDir: t.TempDir(), MaxUploadBytes: 64 << 10}}, st)
	if err != nil {
		t.Fatalf("server.New() = %v", err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatalf("loading Asia/Shanghai: %v", err)
	}
	mux := http.NewServeMux()
	eng.Routes(mux)
	rest.New(eng, st, cfg).Register(mux)
	srv := httptest.NewServer(mux)
	h := &harness{t: t, url: srv.URL, eng: eng, st: st, loc: loc, start: time.Now(), sessions: map[string]*websocket.Conn{}}
	t.Cleanup(func() {
		for _, ws := range h.sessions {
			ws.CloseNow()
		}
		eng.Close()
		srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	return h
}

func basic(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }

// authorization expands the harness's credential words.
func authorization(v string) string {
	switch v {
	case "app":
		return basic(appKey + ":" + appSecret)
	case "app-upper":
		return basic(strings.ToUpper(appKey) + ":" + appSecret)
	case "other-app":
		return basic(otherKey + ":" + otherSecret)
	case "wrong-secret":
		return basic(appKey + ":" + wrongSecret)
	case "unknown-app":
		return basic(unknownKey + ":" + appSecret)
	}
	if s, ok := strings.CutPrefix(v, "basic "); ok {
		return basic(s)
	}
	return v
}

// exchange is one request and its expected response as written in a
// golden file.
type exchange struct {
	title    string
	request  string // the lines between the title and "---"
	response string // the lines after "---"
}

type goldenFile struct {
	preamble  string
	exchanges []exchange
}

func parseGolden(t testing.TB, text string) goldenFile {
	t.Helper()
	var g goldenFile
	lines := strings.Split(text, "\n")
	i := 0
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "=== "); i++ {
	}
	g.preamble = strings.TrimRight(strings.Join(lines[:i], "\n"), "\n")
	for i < len(lines) {
		ex := exchange{title: strings.TrimPrefix(lines[i], "=== ")}
		i++
		j := i
		for ; j < len(lines) && !strings.HasPrefix(lines[j], "=== "); j++ {
		}
		block := lines[i:j]
		sep := -1
		for k, l := range block {
			if l == "---" {
				sep = k
				break
			}
		}
		if sep < 0 {
			t.Fatalf("exchange %q has no --- line", ex.title)
		}
		ex.request = strings.TrimRight(strings.Join(block[:sep], "\n"), "\n")
		ex.response = strings.TrimRight(strings.Join(block[sep+1:], "\n"), "\n")
		g.exchanges = append(g.exchanges, ex)
		i = j
	}
	return g
}

func (g goldenFile) String() string {
	var b strings.Builder
	if g.preamble != "" {
		b.WriteString(g.preamble + "\n\n")
	}
	for i, ex := range g.exchanges {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "=== %s\n%s\n---\n%s\n", ex.title, ex.request, ex.response)
	}
	return b.String()
}

func runGolden(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g := parseGolden(t, string(raw))
	h := newHarness(t, rest.Config{})
	for i := range g.exchanges {
		ex := &g.exchanges[i]
		got := h.run(expand(t, ex.request))
		if *update {
			ex.response = got
			continue
		}
		if want := canonicalResponse(t, ex.response); got != want {
			t.Errorf("%s: exchange %d %q:\n%s\n--- got\n%s\n--- want\n%s", file, i+1, ex.title, ex.request, got, want)
		}
	}
	if *update {
		if err := os.WriteFile(file, []byte(g.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// expand executes the request text as a template.
func expand(t testing.TB, text string) string {
	t.Helper()
	funcs := template.FuncMap{
		"repeat": strings.Repeat,
		"names": func(prefix string, n int) string {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("%s%04d", prefix, i+1)
			}
			b, _ := json.Marshal(names)
			return string(b)
		},
		"users": func(prefix string, n int) string {
			users := make([]map[string]string, n)
			for i := range users {
				users[i] = map[string]string{"username": fmt.Sprintf("%s%04d", prefix, i+1), "password": "password"}
			}
			b, _ := json.Marshal(users)
			return string(b)
		},
		"appkey": func() string { return appKey },
		// multipart is a multipart/form-data body (boundary "golden") with
		// one file part field=filename holding content.
		"multipart": func(field, filename, content string) string {
			return "--golden\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename +
				"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n--golden--\r\n"
		},
		// png is a w×h PNG image, the same bytes every run.
		"png": func(w, h int) string {
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			for x := range w {
				img.Set(x, x%h, color.RGBA{R: 255, A: 255})
			}
			var b bytes.Buffer
			png.Encode(&b, img)
			return b.String()
		},
		"secret": func() string { return appSecret },
		"time": func(offset string) (string, error) {
			d, err := time.ParseDuration(offset)
			if err != nil {
				return "", err
			}
			loc, err := time.LoadLocation("Asia/Shanghai")
			if err != nil {
				return "", err
			}
			return url.PathEscape(time.Now().Add(d).In(loc).Format("2006-01-02 15:04:05")), nil
		},
	}
	tmpl, err := template.New("request").Funcs(funcs).Parse(text)
	if err != nil {
		t.Fatalf("request template %q: %v", text, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, nil); err != nil {
		t.Fatalf("request template %q: %v", text, err)
	}
	return b.String()
}

// run performs one expanded request and renders the response in the
// golden files' canonical form.
func (h *harness) run(request string) string {
	t := h.t
	t.Helper()
	lines := strings.Split(request, "\n")
	for len(lines) > 0 && (strings.HasPrefix(lines[0], "#") || strings.TrimSpace(lines[0]) == "") {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		t.Fatalf("empty request")
	}
	f := strings.Fields(lines[0])
	switch {
	case len(f) == 4 && f[0] == "LOGIN":
		return h.login(f[1], f[2], f[3])
	case len(f) == 3 && f[0] == "DISCONNECT":
		return h.disconnect(f[1], f[2])
	case len(f) != 2:
		t.Fatalf("request line %q: want METHOD TARGET", lines[0])
	}
	req, err := http.NewRequestWithContext(t.Context(), f[0], h.url+f[1], nil)
	if err != nil {
		t.Fatalf("request line %q: %v", lines[0], err)
	}
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		name, value, ok := strings.Cut(lines[i], ":")
		if !ok {
			t.Fatalf("header line %q", lines[i])
		}
		value = strings.TrimSpace(value)
		if http.CanonicalHeaderKey(name) == "Authorization" {
			value = authorization(value)
		}
		req.Header.Add(name, value)
	}
	if i < len(lines) {
		body := strings.Join(lines[i+1:], "\n")
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", f[0], f[1], err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", f[0], f[1], err)
	}
	hdr := resp.Header.Clone()
	if v := hdr.Get("X-Rate-Limit-Reset"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 60 {
			hdr.Set("X-Rate-Limit-Reset", "<1..60>")
		}
	}
	return render(t, resp.StatusCode, hdr, h.normalize(body))
}

// comparedHeaders are the response headers the golden files pin, in the
// order they are written.
var comparedHeaders = []string{"Content-Type", "Allow", "X-Rate-Limit-Quota", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"}

func render(t testing.TB, status int, hdr http.Header, body []byte) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s\n", status, http.StatusText(status))
	for _, k := range comparedHeaders {
		for _, v := range hdr.Values(k) {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	body = bytes.TrimRight(body, "\n")
	if len(body) > 0 {
		b.WriteString("\n")
		var ind bytes.Buffer
		if json.Valid(body) && json.Indent(&ind, body, "", "  ") == nil {
			body = ind.Bytes()
		}
		b.Write(body)
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// canonicalResponse parses an expected response and renders it the way
// run renders an actual one, so that layout does not matter.
func canonicalResponse(t testing.TB, text string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	if len(lines) == 1 && (lines[0] == "ok" || strings.HasPrefix(lines[0], "error ")) {
		return lines[0] // a LOGIN or DISCONNECT step
	}
	code, _, _ := strings.Cut(lines[0], " ")
	status, err := strconv.Atoi(code)
	if err != nil {
		t.Fatalf("status line %q", lines[0])
	}
	hdr := http.Header{}
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		name, value, ok := strings.Cut(lines[i], ":")
		if !ok {
			t.Fatalf("header line %q", lines[i])
		}
		hdr.Add(name, strings.TrimSpace(value))
	}
	for k := range hdr {
		if !contains(comparedHeaders, k) {
			t.Fatalf("header %s is not one the golden files compare (%v)", k, comparedHeaders)
		}
	}
	var body []byte
	if i < len(lines) {
		body = []byte(strings.Join(lines[i+1:], "\n"))
		var c bytes.Buffer
		if json.Valid(body) && json.Compact(&c, body) == nil {
			body = c.Bytes()
		}
	}
	return render(t, status, hdr, body)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var (
	timeField   = regexp.MustCompile(`"(ctime|mtime|itime)":"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"`)
	numberField = regexp.MustCompile(`"(msg_ctime|create_time)":(\d+)`)
	cursorField = regexp.MustCompile(`"cursor":"[^"]+"`)
	mediaField  = regexp.MustCompile(`"media_id":"jmsg/(image|voice|file|video)/[A-Z2-7]{32}"`)
	urlField    = regexp.MustCompile(`"url":"http://127\.0\.0\.1:\d+/v1/media/get\?app=[^"&]+&exp=\d+&id=jmsg%2F[a-z]+%2F[A-Z2-7]{32}&sig=[A-Za-z0-9_-]+&v=[ot]"`)
)

// normalize replaces the values that differ from run to run, after
// checking them.
func (h *harness) normalize(body []byte) []byte {
	lo := h.start.Truncate(time.Second)
	body = timeField.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := timeField.FindSubmatch(m)
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", string(sub[2]), h.loc)
		if err != nil || tm.Before(lo) || tm.After(time.Now()) {
			return m
		}
		return []byte(`"` + string(sub[1]) + `":"<time>"`)
	})
	body = numberField.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := numberField.FindSubmatch(m)
		n, err := strconv.ParseInt(string(sub[2]), 10, 64)
		unit, at := "<ms>", time.UnixMilli(n)
		if string(sub[1]) == "create_time" {
			unit, at = "<s>", time.Unix(n, 0)
		}
		if err != nil || at.Before(lo) || at.After(time.Now()) {
			return m
		}
		return []byte(`"` + string(sub[1]) + `":"` + unit + `"`)
	})
	body = cursorField.ReplaceAll(body, []byte(`"cursor":"<cursor>"`))
	body = mediaField.ReplaceAll(body, []byte(`"media_id":"jmsg/$1/<id>"`))
	body = urlField.ReplaceAll(body, []byte(`"url":"<signed download URL>"`))
	body = bytes.ReplaceAll(body, []byte(appKey), []byte("<appkey>"))
	body = bytes.ReplaceAll(body, []byte(otherKey), []byte("<other-appkey>"))
	return body
}

// login opens a client-protocol session of user on platform and logs in.
func (h *harness) login(user, password, platform string) string {
	t := h.t
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.url, "http")+"/v1/ws", &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatalf("dialing the WebSocket endpoint: %v", err)
	}
	steps := []struct {
		op   string
		data any
	}{
		{wire.OpInit, wire.InitReq{AppKey: appKey, Version: wire.Version, Platform: platform}},
		{wire.OpLogin, wire.LoginReq{Username: user, Password: password}},
	}
	for i, s := range steps {
		if f := h.call(ctx, ws, uint64(i+1), s.op, s.data); f.Code != 0 {
			ws.CloseNow()
			return fmt.Sprintf("error %d %s", f.Code, f.Message)
		}
	}
	if old := h.sessions[user+"/"+platform]; old != nil {
		old.CloseNow()
	}
	h.sessions[user+"/"+platform] = ws
	h.waitOnline(user, platform, true)
	return "ok"
}

// disconnect closes the session login opened, without logging out.
func (h *harness) disconnect(user, platform string) string {
	ws := h.sessions[user+"/"+platform]
	if ws == nil {
		h.t.Fatalf("DISCONNECT %s %s: no such session", user, platform)
	}
	ws.CloseNow()
	delete(h.sessions, user+"/"+platform)
	h.waitOnline(user, platform, false)
	return "ok"
}

// call sends a request frame and returns its response, skipping pushes.
func (h *harness) call(ctx context.Context, ws *websocket.Conn, id uint64, op string, data any) wire.Frame {
	t := h.t
	t.Helper()
	d, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(wire.Frame{Op: op, ID: id, Data: d})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("%s: writing: %v", op, err)
	}
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("%s: reading the response: %v", op, err)
		}
		frames, err := wire.SplitBatch(msg)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		for _, fb := range frames {
			var f wire.Frame
			if err := json.Unmarshal(fb, &f); err != nil {
				t.Fatalf("%s: frame %q: %v", op, fb, err)
			}
			if f.ID == id {
				return f
			}
		}
	}
}

// waitOnline polls the engine until user's platform is online (or not).
func (h *harness) waitOnline(user, platform string, online bool) {
	t := h.t
	t.Helper()
	u, err := h.st.UserByName(t.Context(), appKey, user)
	if err != nil {
		t.Fatalf("UserByName(%s) = %v", user, err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		ds, err := h.eng.DeviceStatuses(t.Context(), appKey, u.UID)
		if err != nil {
			t.Fatalf("DeviceStatuses(%s) = %v", user, err)
		}
		for _, d := range ds {
			if d.Platform == platform && d.Online == online {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s: online is not %v after %v (%+v)", user, platform, online, waitTimeout, ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
