package rest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg/server/rest"
	"github.com/jmsg-im/jmsg/server/store"
)

// do sends one REST request with the credentials word auth (see
// authorization) and returns the response with its body read.
func (h *harness) do(method, path, auth, body string) (*http.Response, []byte) {
	t := h.t
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, h.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", authorization(auth))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, b
}

// TestRateLimit checks the per-app quota (rest-v1.md §1.4, errors.md e.4):
// every answer carries the quota headers, the call over the quota is 429
// 2002 with nothing done, and quotas are per app, whatever the key's case.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, rest.Config{RatePerMinute: 3})
	const list = "/v1/users/?start=0&count=10"
	steps := []struct {
		auth, method, path, body string
		status                   int
		remaining                string
	}{
		{"app", "GET", list, "", http.StatusOK, "2"},
		{"app", "POST", "/v1/users/", `[{"username":"alice","password":"password"}]`, http.StatusCreated, "1"},
		{"app-upper", "GET", list, "", http.StatusOK, "0"}, // the same app, the same quota
		{"app", "POST", "/v1/users/", `[{"username":"bobby","password":"password"}]`, http.StatusTooManyRequests, "0"},
		{"app-upper", "GET", list, "", http.StatusTooManyRequests, "0"},
		{"other-app", "GET", list, "", http.StatusOK, "2"},
		{"other-app", "GET", list, "", http.StatusOK, "1"},
	}
	for i, s := range steps {
		resp, body := h.do(s.method, s.path, s.auth, s.body)
		call := fmt.Sprintf("call %d: %s %s as %s", i+1, s.method, s.path, s.auth)
		if resp.StatusCode != s.status {
			t.Fatalf("%s = %d %s, want %d", call, resp.StatusCode, body, s.status)
		}
		for k, want := range map[string]string{"X-Rate-Limit-Quota": "3", "X-Rate-Limit-Limit": "3", "X-Rate-Limit-Remaining": s.remaining} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", call, k, got, want)
			}
		}
		if n, err := strconv.Atoi(resp.Header.Get("X-Rate-Limit-Reset")); err != nil || n < 1 || n > 60 {
			t.Errorf("%s: X-Rate-Limit-Reset = %q, want 1..60", call, resp.Header.Get("X-Rate-Limit-Reset"))
		}
		if s.status == http.StatusTooManyRequests {
			if got, want := string(body), `{"error":{"code":2002,"message":"Rate limit exceeded"}}`; got != want {
				t.Errorf("%s: body %s, want %s", call, got, want)
			}
			if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
				t.Errorf("%s: Content-Type %q, want %q", call, got, want)
			}
		}
	}
	if _, err := h.st.UserByName(t.Context(), appKey, "bobby"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByName(bobby) after the refused register = %v, want ErrNotFound", err)
	}
}

// TestBatchLimits checks that 500 is accepted where the golden files
// show 501 refused: register, batch status v1 and v2, list count.
func TestBatchLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, rest.Config{})
	users := make([]map[string]string, 500)
	names := make([]string, 500)
	for i := range users {
		names[i] = fmt.Sprintf("user%04d", i+1)
		users[i] = map[string]string{"username": names[i], "password": "password"}
	}
	reg, _ := json.Marshal(users)
	namesJSON, _ := json.Marshal(names)

	resp, body := h.do("POST", "/v1/users/", "app", string(reg))
	var results []map[string]any
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &results) != nil || len(results) != 500 {
		t.Fatalf("registering 500 users = %d %.200s, want 201 with 500 results", resp.StatusCode, body)
	}
	for i, r := range results {
		if r["username"] != names[i] || r["error"] != nil {
			t.Fatalf("result %d = %v, want {username: %s}", i, r, names[i])
		}
	}

	for _, path := range []string{"/v1/users/userstat", "/v2/users/statuser"} {
		resp, body := h.do("POST", path, "app", string(namesJSON))
		var items []struct {
			Username string `json:"username"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &items) != nil || len(items) != 500 {
			t.Fatalf("POST %s with 500 names = %d %.200s, want 200 with 500 items", path, resp.StatusCode, body)
		}
		if items[499].Username != names[499] {
			t.Errorf("POST %s: item 500 = %q, want %q", path, items[499].Username, names[499])
		}
	}

	resp, body = h.do("GET", "/v1/users/?start=0&count=500", "app", "")
	var page struct {
		Total, Start, Count int
		Users               []map[string]any
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &page) != nil {
		t.Fatalf("GET /v1/users/?count=500 = %d %.200s, want 200", resp.StatusCode, body)
	}
	if page.Total != 500 || page.Count != 500 || len(page.Users) != 500 {
		t.Errorf("GET /v1/users/?count=500: total %d, count %d, %d users; want 500 each", page.Total, page.Count, len(page.Users))
	}
}
