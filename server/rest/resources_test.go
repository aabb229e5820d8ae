package rest_test

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg/server/rest"
)

// An upload over REST gets a media object whose download URL, fetched
// with GET /v1/resource, serves exactly the uploaded bytes; the same URL
// with its signature altered is refused. (The golden file resources.txt
// pins the replies; media ids are random, so the round trip is here.)
func TestResourceRoundTrip(t *testing.T) {
	h := newHarness(t, rest.Config{})
	content := []byte(strings.Repeat("jmsg ", 1000))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("filename", "notes.txt")
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", h.url+"/v1/resource?type=file", &body)
	req.Header.Set("Authorization", authorization("app"))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		MediaID string `json:"media_id"`
		CRC32   uint32 `json:"media_crc32"`
		FSize   int64  `json:"fsize"`
	}
	json.NewDecoder(resp.Body).Decode(&obj)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || obj.CRC32 != crc32.ChecksumIEEE(content) || obj.FSize != int64(len(content)) {
		t.Fatalf("upload = %d %+v", resp.StatusCode, obj)
	}

	r, b := h.do("GET", "/v1/resource?mediaId="+obj.MediaID, "app", "")
	var got struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(b, &got); r.StatusCode != http.StatusOK || !strings.HasPrefix(got.URL, h.url+"/v1/media/get?") {
		t.Fatalf("GET /v1/resource = %d %s", r.StatusCode, b)
	}
	dl, err := http.Get(got.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	if dl.StatusCode != http.StatusOK || !bytes.Equal(data, content) {
		t.Fatalf("download = %d, %d bytes; want 200 and the %d bytes uploaded", dl.StatusCode, len(data), len(content))
	}
	tampered := strings.Replace(got.URL, "&v=o", "&v=t", 1)
	dl, err = http.Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	dl.Body.Close()
	if dl.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered URL = %d, want 403", dl.StatusCode)
	}
	// Another app's credentials do not see the media.
	if r, b := h.do("GET", "/v1/resource?mediaId="+obj.MediaID, "other-app", ""); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another app's GET /v1/resource = %d %s", r.StatusCode, b)
	}
}
