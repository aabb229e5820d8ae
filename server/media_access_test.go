package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"image"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// mediaMsg is a send request of a msgType message with body to user to,
// or to group gid when gid is not 0.
func mediaMsg(t testing.TB, to string, gid int64, cid, msgType string, body any) wire.SendReq {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	doc := jmsg.Doc{Version: 1, TargetType: "single", TargetID: to, CreateTime: time.Now().UnixMilli(), MsgType: msgType, MsgBody: b}
	if gid != 0 {
		doc.TargetType, doc.TargetID = "group", jmsg.FormatID(gid)
	}
	return wire.SendReq{ClientMsgID: cid, Content: doc}
}

// sendImage sends obj as an image message to user to (or group gid) and
// fails the test if it is refused.
func (c *rawClient) sendImage(to string, gid int64, cid string, obj jmsg.MediaObject) wire.SendResp {
	c.t.Helper()
	var resp wire.SendResp
	c.mustCall(wire.OpSend, mediaMsg(c.t, to, gid, cid, "image", jmsg.MediaBody{MediaObject: obj}), &resp)
	return resp
}

// resource asks for a download URL of id and fails the test on an error.
func (c *rawClient) resource(id string, thumb bool) wire.ResourceResp {
	c.t.Helper()
	var resp wire.ResourceResp
	c.mustCall(wire.OpGetResource, wire.ResourceReq{MediaID: id, Thumb: thumb}, &resp)
	return resp
}

// download GETs a URL with extra headers.
func (ms *mediaServer) download(t testing.TB, u string, hdr ...string) httpResult {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return ms.do(t, http.MethodGet, u, upAuth{}, h, nil)
}

// TestMediaResourceDownload follows an image from upload through a message
// to the receiver's download, with ranges and the thumbnail.
func TestMediaResourceDownload(t *testing.T) {
	const thumbSize = 16
	ms := newMediaServer(t, Config{Media: MediaConfig{ThumbnailSize: thumbSize}})
	addUsers(t, ms.testServer, "alice", "bobby")
	cs := logins(t, ms.testServer, "alice", "bobby")
	alice, bob := cs[0], cs[1]
	a := uploadAuth(t, ms.testServer, alice, "alice")

	data := imageBytes(t, "png", 64, 40)
	obj := ms.mustUpload(t, a, jmsg.MediaImage, "pic.png", data)
	sent := alice.sendImage("bobby", 0, "img-1", obj)
	m := bob.nextMsg().Message
	var doc jmsg.Doc
	var body jmsg.MediaBody
	if json.Unmarshal(m.Content, &doc); json.Unmarshal(doc.MsgBody, &body) != nil || m.MsgID != sent.MsgID || body.MediaObject != obj {
		t.Fatalf("bob got %s, want message %d carrying %+v", m.Content, sent.MsgID, obj)
	}

	res := bob.resource(obj.MediaID, false)
	if res.CRC32 != obj.CRC32 || res.FSize != obj.FSize || !strings.HasPrefix(res.URL, ms.http.URL+"/v1/media/get?") {
		t.Fatalf("get_resource = %+v, want crc32 %d fsize %d and a URL of %s", res, obj.CRC32, obj.FSize, ms.http.URL)
	}
	r := ms.download(t, res.URL)
	if r.status != http.StatusOK || !bytes.Equal(r.body, data) {
		t.Fatalf("GET = %d, %d bytes, want 200 and the %d bytes uploaded", r.status, len(r.body), len(data))
	}
	wantHeaders := map[string]string{
		"Content-Length": strconv.Itoa(len(data)),
		"Content-Type":   "image/png",
		"ETag":           `"` + strconv.FormatUint(uint64(obj.CRC32), 10) + `"`,
		"Accept-Ranges":  "bytes",
	}
	for k, v := range wantHeaders {
		if got := r.header.Get(k); got != v {
			t.Errorf("GET: %s = %q, want %q", k, got, v)
		}
	}
	size := strconv.Itoa(len(data))
	ranges := []struct {
		rng          string
		status       int
		contentRange string
		body         []byte
	}{
		{"bytes=10-19", 206, "bytes 10-19/" + size, data[10:20]},
		{"bytes=10-", 206, "bytes 10-" + strconv.Itoa(len(data)-1) + "/" + size, data[10:]},
		{"bytes=0-0", 206, "bytes 0-0/" + size, data[:1]},
		{"bytes=5-100000", 206, "bytes 5-" + strconv.Itoa(len(data)-1) + "/" + size, data[5:]},
		{"bytes=-7", 206, "bytes " + strconv.Itoa(len(data)-7) + "-" + strconv.Itoa(len(data)-1) + "/" + size, data[len(data)-7:]},
		{"bytes=" + size + "-", 416, "bytes */" + size, nil},
		{"bytes=" + strconv.Itoa(len(data)+50) + "-" + strconv.Itoa(len(data)+60), 416, "bytes */" + size, nil},
		// Ranges the server does not serve are ignored: the whole file.
		{"bytes=0-1,5-6", 200, "", data},
		{"items=0-1", 200, "", data},
		{"bytes=9-3", 200, "", data},
	}
	for _, c := range ranges {
		r := ms.download(t, res.URL, "Range", c.rng)
		if r.status != c.status || r.header.Get("Content-Range") != c.contentRange {
			t.Errorf("GET Range %s = %d Content-Range %q, want %d %q", c.rng, r.status, r.header.Get("Content-Range"), c.status, c.contentRange)
			continue
		}
		if c.status != 416 && (!bytes.Equal(r.body, c.body) || r.header.Get("Content-Length") != strconv.Itoa(len(c.body))) {
			t.Errorf("GET Range %s: %d bytes, Content-Length %s, want the %d bytes", c.rng, len(r.body), r.header.Get("Content-Length"), len(c.body))
		}
	}
	head := ms.do(t, http.MethodHead, res.URL, upAuth{}, nil, nil)
	if head.status != http.StatusOK || head.header.Get("Content-Length") != size || len(head.body) != 0 {
		t.Errorf("HEAD = %d Content-Length %q, %d bytes, want 200, %s, none", head.status, head.header.Get("Content-Length"), len(head.body), size)
	}

	// Thumbnails: PNG and GIF give PNG, JPEG gives JPEG, longest side
	// thumbSize; the answer's crc32 and fsize are the thumbnail's.
	others := map[string]jmsg.MediaObject{"png": obj}
	for _, f := range []string{"jpg", "gif"} {
		o := ms.mustUpload(t, a, jmsg.MediaImage, "", imageBytes(t, f, 30, 50))
		alice.sendImage("bobby", 0, "img-"+f, o)
		others[f] = o
	}
	for src, o := range others {
		tr := bob.resource(o.MediaID, true)
		if tr.CRC32 == o.CRC32 || tr.FSize == o.FSize {
			t.Errorf("%s thumbnail: get_resource = %+v, the original's crc32 and size", src, tr)
		}
		r := ms.download(t, tr.URL)
		if r.status != http.StatusOK || crc32.ChecksumIEEE(r.body) != tr.CRC32 || int64(len(r.body)) != tr.FSize {
			t.Errorf("%s thumbnail: GET = %d, %d bytes crc32 %d, want 200 and get_resource's %d bytes crc32 %d",
				src, r.status, len(r.body), crc32.ChecksumIEEE(r.body), tr.FSize, tr.CRC32)
			continue
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(r.body))
		wantFormat := map[string]string{"png": "png", "jpg": "jpeg", "gif": "png"}[src]
		wantType := map[string]string{"png": "image/png", "jpeg": "image/jpeg"}[wantFormat]
		if err != nil || format != wantFormat || max(cfg.Width, cfg.Height) != thumbSize || r.header.Get("Content-Type") != wantType {
			t.Errorf("%s thumbnail: %s %dx%d (%v), Content-Type %q, want %s with longest side %d, %s",
				src, format, cfg.Width, cfg.Height, err, r.header.Get("Content-Type"), wantFormat, thumbSize, wantType)
		}
	}
	// Media without a thumbnail answer the original for thumb.
	voice := ms.mustUpload(t, a, jmsg.MediaVoice, "", append([]byte("#!AMR\n"), randomBytes(100)...))
	alice.mustCall(wire.OpSend, mediaMsg(t, "bobby", 0, "voice", "voice", jmsg.MediaBody{MediaObject: voice, Duration: 3}), nil)
	if tr := bob.resource(voice.MediaID, true); tr.CRC32 != voice.CRC32 || tr.FSize != voice.FSize {
		t.Errorf("voice with thumb: get_resource = %+v, want the original's crc32 %d fsize %d", tr, voice.CRC32, voice.FSize)
	}
}

// TestMediaResourcePermission checks who may get a download URL: the
// uploader, members of a conversation within their window, anyone for an
// avatar; nobody for ids that are not media ids.
func TestMediaResourcePermission(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice", "bobby", "carol", "david")
	cs := logins(t, ms.testServer, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]
	a := uploadAuth(t, ms.testServer, alice, "alice")
	up := func(w int) jmsg.MediaObject {
		return ms.mustUpload(t, a, jmsg.MediaImage, "", imageBytes(t, "png", w, 3))
	}

	private := up(1)
	wantCode(t, bob, wire.OpGetResource, wire.ResourceReq{MediaID: private.MediaID}, jmsg.ServerRequestUserNoPermission)
	alice.resource(private.MediaID, false) // the uploader, without any message

	single := up(2)
	alice.sendImage("bobby", 0, "single", single)
	bob.resource(single.MediaID, false)
	bob.resource(single.MediaID, true)
	alice.resource(single.MediaID, false)
	wantCode(t, carol, wire.OpGetResource, wire.ResourceReq{MediaID: single.MediaID}, jmsg.ServerRequestUserNoPermission)
	wantCode(t, carol, wire.OpGetResource, wire.ResourceReq{MediaID: single.MediaID, Thumb: true}, jmsg.ServerRequestUserNoPermission)
	unknown := "jmsg/image/" + strings.Repeat("A", 32)
	for _, c := range []*rawClient{alice, carol} {
		wantCode(t, c, wire.OpGetResource, wire.ResourceReq{MediaID: unknown}, jmsg.ServerRequestUserNoPermission)
	}
	for _, id := range []string{"", "../x", "/etc/passwd", "jmsg/image/../../x", "jmsg%2Fimage%2F..", "jmsg/image/AAAA",
		"jmsg/image/" + strings.Repeat("A", 33), "jmsg/image/" + strings.Repeat("a", 32), "jmsg/text/" + strings.Repeat("A", 32),
		ms.http.URL + "/v1/media/get?id=" + url.QueryEscape(single.MediaID), "file:///etc/passwd",
		single.MediaID + "/../../../etc/passwd", single.MediaID + "\x00", " " + single.MediaID, ms.appKey + "/" + single.Hash + ".image"} {
		for _, c := range []*rawClient{alice, bob} {
			wantCode(t, c, wire.OpGetResource, wire.ResourceReq{MediaID: id}, jmsg.ServerInvalidRequest)
		}
	}

	// A group: a member sees the media sent while they belonged.
	g := alice.createGroup(wire.CreateGroupReq{Name: "pics", Members: users("bobby")})
	before := up(4)
	alice.sendImage("", g.GID, "g-before", before)
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: users("carol")}, nil)
	wantCode(t, carol, wire.OpGetResource, wire.ResourceReq{MediaID: before.MediaID}, jmsg.ServerRequestUserNoPermission)
	bob.resource(before.MediaID, false)
	during := up(5)
	alice.sendImage("", g.GID, "g-during", during)
	carol.resource(during.MediaID, false)
	bob.mustCall(wire.OpExitGroup, wire.GroupReq{GID: g.GID}, nil)
	after := up(6)
	alice.sendImage("", g.GID, "g-after", after)
	carol.resource(after.MediaID, false)
	wantCode(t, bob, wire.OpGetResource, wire.ResourceReq{MediaID: after.MediaID}, jmsg.ServerRequestUserNoPermission)
	bob.resource(during.MediaID, false) // still within bob's window
	wantCode(t, david, wire.OpGetResource, wire.ResourceReq{MediaID: during.MediaID}, jmsg.ServerRequestUserNoPermission)

	// Avatars are readable by every user of the app.
	avatar := up(7)
	wantCode(t, david, wire.OpGetResource, wire.ResourceReq{MediaID: avatar.MediaID}, jmsg.ServerRequestUserNoPermission)
	alice.mustCall(wire.OpUpdateMyInfo, wire.UpdateMyInfoReq{Fields: []string{"avatar"}, Info: jmsg.UserInfo{Avatar: avatar.MediaID}}, nil)
	res := david.resource(avatar.MediaID, false)
	if r := ms.download(t, res.URL); r.status != http.StatusOK || crc32.ChecksumIEEE(r.body) != avatar.CRC32 {
		t.Errorf("GET of alice's avatar by david = %d, crc32 %d, want 200 and crc32 %d", r.status, crc32.ChecksumIEEE(r.body), avatar.CRC32)
	}
	groupAvatar := up(8)
	wantCode(t, david, wire.OpGetResource, wire.ResourceReq{MediaID: groupAvatar.MediaID}, jmsg.ServerRequestUserNoPermission)
	alice.mustCall(wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: []string{"avatar"}, Avatar: groupAvatar.MediaID}, nil)
	david.resource(groupAvatar.MediaID, true)

	// Naming someone else's private media as one's avatar, or a group's,
	// is refused: it would publish the media to the whole app.
	secret := up(9)
	wantCode(t, david, wire.OpUpdateMyInfo, wire.UpdateMyInfoReq{Fields: []string{"avatar"}, Info: jmsg.UserInfo{Avatar: secret.MediaID}},
		jmsg.ServerRequestUserNoPermission)
	wantCode(t, david, wire.OpCreateGroup, wire.CreateGroupReq{Name: "steal", Avatar: secret.MediaID}, jmsg.ServerRequestUserNoPermission)
	dg := david.createGroup(wire.CreateGroupReq{Name: "mine"})
	wantCode(t, david, wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: dg.GID, Fields: []string{"avatar"}, Avatar: secret.MediaID},
		jmsg.ServerRequestUserNoPermission)
	for _, c := range []*rawClient{bob, carol, david} {
		wantCode(t, c, wire.OpGetResource, wire.ResourceReq{MediaID: secret.MediaID}, jmsg.ServerRequestUserNoPermission)
	}

	// Another app's users see nothing of this app, avatars included.
	appB := ms.otherApp(t)
	addUsers(t, appB, "alice")
	aliceB := logins(t, appB, "alice")[0]
	for _, id := range []string{private.MediaID, single.MediaID, avatar.MediaID, groupAvatar.MediaID} {
		wantCode(t, aliceB, wire.OpGetResource, wire.ResourceReq{MediaID: id}, jmsg.ServerRequestUserNoPermission)
	}
}

// TestMediaSignedURL checks that a download URL serves only what it was
// signed for, only until it expires.
func TestMediaSignedURL(t *testing.T) {
	ms := newMediaServer(t, Config{Media: MediaConfig{URLTTL: time.Second}})
	addUsers(t, ms.testServer, "alice")
	alice := logins(t, ms.testServer, "alice")[0]
	a := uploadAuth(t, ms.testServer, alice, "alice")
	data := imageBytes(t, "png", 40, 30)
	obj := ms.mustUpload(t, a, jmsg.MediaImage, "", data)
	other := ms.mustUpload(t, a, jmsg.MediaImage, "", imageBytes(t, "png", 41, 30))
	appB := ms.otherApp(t)

	res := alice.resource(obj.MediaID, false)
	if r := ms.download(t, res.URL); r.status != http.StatusOK || !bytes.Equal(r.body, data) {
		t.Fatalf("GET of a fresh URL = %d, want 200 and the bytes", r.status)
	}
	u, err := url.Parse(res.URL)
	if err != nil {
		t.Fatal(err)
	}
	orig := u.Query()
	tamper := func(f func(q url.Values)) string {
		q := url.Values{}
		for k, v := range orig {
			q[k] = append([]string(nil), v...)
		}
		f(q)
		return ms.http.URL + "/v1/media/get?" + q.Encode()
	}
	sig := orig.Get("sig")
	flipped := base64.RawURLEncoding.EncodeToString(append([]byte{0}, mustB64(t, sig)[1:]...))
	exp, _ := strconv.ParseInt(orig.Get("exp"), 10, 64)
	cases := map[string]string{
		"signature changed":     tamper(func(q url.Values) { q.Set("sig", flipped) }),
		"signature missing":     tamper(func(q url.Values) { q.Del("sig") }),
		"signature not base64":  tamper(func(q url.Values) { q.Set("sig", "!!!") }),
		"id of another upload":  tamper(func(q url.Values) { q.Set("id", other.MediaID) }),
		"id missing":            tamper(func(q url.Values) { q.Del("id") }),
		"variant t":             tamper(func(q url.Values) { q.Set("v", "t") }),
		"variant x":             tamper(func(q url.Values) { q.Set("v", "x") }),
		"expiry extended":       tamper(func(q url.Values) { q.Set("exp", strconv.FormatInt(exp+3600, 10)) }),
		"expiry not a number":   tamper(func(q url.Values) { q.Set("exp", "soon") }),
		"app B":                 tamper(func(q url.Values) { q.Set("app", appB.appKey) }),
		"app missing":           tamper(func(q url.Values) { q.Del("app") }),
		"no query":              ms.http.URL + "/v1/media/get",
		"expired, well signed":  ms.http.URL + "/v1/media/get?" + mustQuery(t, ms, ms.appKey, obj.MediaID, "o", time.Now().Add(-2*time.Second)),
		"thumb, expired signed": ms.http.URL + "/v1/media/get?" + mustQuery(t, ms, ms.appKey, obj.MediaID, "t", time.Now().Add(-2*time.Second)),
	}
	for name, u := range cases {
		r := ms.download(t, u)
		wantHTTPError(t, "GET with "+name, r, http.StatusForbidden, jmsg.ServerRequestUserNoPermission)
		if bytes.Contains(r.body, data[:16]) {
			t.Errorf("GET with %s answered the file's bytes", name)
		}
	}
	// Well signed but naming nothing: 404, also for another app's key.
	for name, q := range map[string]string{
		"unknown id": mustQuery(t, ms, ms.appKey, "jmsg/image/"+strings.Repeat("B", 32), "o", time.Now().Add(time.Minute)),
		"app B":      mustQuery(t, ms, appB.appKey, obj.MediaID, "o", time.Now().Add(time.Minute)),
	} {
		wantHTTPError(t, "GET of a signed URL of "+name, ms.download(t, ms.http.URL+"/v1/media/get?"+q), http.StatusNotFound, jmsg.RestParameterInvalid)
	}

	// The URL of get_resource works at least URLTTL and stops after.
	res = alice.resource(obj.MediaID, false)
	issued := time.Now()
	deadline := issued.Add(waitTimeout)
	for {
		r := ms.download(t, res.URL)
		if r.status == http.StatusForbidden {
			if time.Since(issued) < time.Second {
				t.Errorf("the URL expired after %v, want at least the URL TTL of 1s", time.Since(issued))
			}
			break
		}
		if r.status != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("GET = %d %s, want 200 until the URL expires, then 403", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		t.Fatalf("signature %q: %v", s, err)
	}
	return b
}

func mustQuery(t testing.TB, ms *mediaServer, appKey, id, variant string, exp time.Time) string {
	t.Helper()
	q, err := ms.srv.signer.downloadQuery(appKey, id, variant, exp)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// mp4Bytes starts like an MP4 file.
func mp4Bytes(n int) []byte {
	return append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), randomBytes(n)...)
}

// TestMediaSendChecks checks media bodies at send: each media object must
// be an upload of the app of the right kind, with its crc32 and size.
func TestMediaSendChecks(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice", "bobby", "carol")
	cs := logins(t, ms.testServer, "alice", "bobby", "carol")
	alice, bob, carol := cs[0], cs[1], cs[2]
	a := uploadAuth(t, ms.testServer, alice, "alice")

	img := ms.mustUpload(t, a, jmsg.MediaImage, "", imageBytes(t, "jpg", 20, 10))
	voice := ms.mustUpload(t, a, jmsg.MediaVoice, "", append([]byte("#!AMR\n"), randomBytes(300)...))
	file := ms.mustUpload(t, a, jmsg.MediaFile, "report.pdf", append([]byte("%PDF-1.4\n"), randomBytes(300)...))
	video := ms.mustUpload(t, a, jmsg.MediaVideo, "clip.mp4", mp4Bytes(500))
	if video.Format != "mp4" {
		t.Errorf("video upload format %q, want mp4", video.Format)
	}
	appB := ms.otherApp(t)
	addUsers(t, appB, "alice")
	aliceB := logins(t, appB, "alice")[0]
	foreign := ms.mustUpload(t, uploadAuth(t, appB, aliceB, "alice"), jmsg.MediaImage, "", imageBytes(t, "png", 5, 5))

	with := func(o jmsg.MediaObject, f func(*jmsg.MediaObject)) jmsg.MediaObject {
		f(&o)
		return o
	}
	unknown := with(img, func(o *jmsg.MediaObject) { o.MediaID = "jmsg/image/" + strings.Repeat("C", 32) })
	voiceAsImage := with(voice, func(o *jmsg.MediaObject) { o.Width, o.Height = 3, 3 })
	fileAsVoice := with(file, func(o *jmsg.MediaObject) { o.MediaID = "jmsg/voice/" + strings.TrimPrefix(file.MediaID, "jmsg/file/") })
	type body = map[string]any
	ok := []struct {
		name, typ string
		body      any
	}{
		{"image", "image", jmsg.MediaBody{MediaObject: img}},
		{"image with extras", "image", jmsg.MediaBody{MediaObject: img, Extras: json.RawMessage(`{"k":"v"}`)}},
		{"voice", "voice", jmsg.MediaBody{MediaObject: voice, Duration: 4}},
		{"file", "file", jmsg.MediaBody{MediaObject: file}},
		{"video", "video", jmsg.VideoBody{Video: video, Thumb: img, Duration: 9, FName: "clip.mp4"}},
		{"location", "location", jmsg.LocationBody{Latitude: 39.9, Longitude: -116.4, Scale: 15, Label: "here"}},
		{"location at the limits", "location", jmsg.LocationBody{Latitude: -90, Longitude: 180}},
	}
	for i, c := range ok {
		if code := alice.callCode(wire.OpSend, mediaMsg(t, "bobby", 0, "ok-"+itoa(i), c.typ, c.body)); code != 0 {
			t.Errorf("send %s = error %d, want success", c.name, code)
		}
	}
	// The receiver may get every object the messages carried.
	for _, o := range []jmsg.MediaObject{img, voice, file, video} {
		if r := bob.resource(o.MediaID, false); r.CRC32 != o.CRC32 || r.FSize != o.FSize {
			t.Errorf("bob: get_resource(%s) = %+v, want crc32 %d fsize %d", o.MediaID, r, o.CRC32, o.FSize)
		}
	}

	bad := []struct {
		name, typ string
		body      any
	}{
		{"unknown image", "image", jmsg.MediaBody{MediaObject: unknown}},
		{"image, wrong crc32", "image", jmsg.MediaBody{MediaObject: with(img, func(o *jmsg.MediaObject) { o.CRC32++ })}},
		{"image, wrong fsize", "image", jmsg.MediaBody{MediaObject: with(img, func(o *jmsg.MediaObject) { o.FSize++ })}},
		{"image, no crc32", "image", body{"media_id": img.MediaID, "fsize": img.FSize, "width": 20, "height": 10}},
		{"image, no width", "image", jmsg.MediaBody{MediaObject: with(img, func(o *jmsg.MediaObject) { o.Width = 0 })}},
		{"voice id in an image", "image", jmsg.MediaBody{MediaObject: voiceAsImage}},
		{"image of another app", "image", jmsg.MediaBody{MediaObject: foreign}},
		{"file id named a voice", "voice", jmsg.MediaBody{MediaObject: fileAsVoice, Duration: 3}},
		{"image id in a file", "file", jmsg.MediaBody{MediaObject: with(img, func(o *jmsg.MediaObject) { o.FName = "x.jpg" })}},
		{"voice, no duration", "voice", jmsg.MediaBody{MediaObject: voice}},
		{"file, no fname", "file", body{"media_id": file.MediaID, "media_crc32": file.CRC32, "fsize": file.FSize}},
		{"file, fname a path", "file", jmsg.MediaBody{MediaObject: with(file, func(o *jmsg.MediaObject) { o.FName = "../x.pdf" })}},
		{"video, thumb a voice", "video", jmsg.VideoBody{Video: video, Thumb: voice, Duration: 9}},
		{"video, image as the video", "video", jmsg.VideoBody{Video: img, Thumb: img, Duration: 9}},
		{"video, thumb wrong crc32", "video", jmsg.VideoBody{Video: video, Thumb: with(img, func(o *jmsg.MediaObject) { o.CRC32 ^= 1 }), Duration: 9}},
		{"video, video wrong fsize", "video", jmsg.VideoBody{Video: with(video, func(o *jmsg.MediaObject) { o.FSize-- }), Thumb: img, Duration: 9}},
		{"video, unknown thumb", "video", jmsg.VideoBody{Video: video, Thumb: unknown, Duration: 9}},
		{"video, no duration", "video", jmsg.VideoBody{Video: video, Thumb: img}},
		{"latitude 91", "location", jmsg.LocationBody{Latitude: 91, Longitude: 0}},
		{"latitude -90.5", "location", jmsg.LocationBody{Latitude: -90.5, Longitude: 0}},
		{"longitude -181", "location", jmsg.LocationBody{Latitude: 0, Longitude: -181}},
		{"negative scale", "location", jmsg.LocationBody{Scale: -1}},
		{"location as a string", "location", body{"latitude": "39.9", "longitude": 116}},
	}
	for i, c := range bad {
		f := alice.call(wire.OpSend, mediaMsg(t, "bobby", 0, "bad-"+itoa(i), c.typ, c.body))
		if f.Code != jmsg.ServerMessageContentJSONError {
			t.Errorf("send %s = code %d %q, want %d", c.name, f.Code, f.Message, jmsg.ServerMessageContentJSONError)
		}
	}
	if f := alice.call(wire.OpSend, mediaMsg(t, "bobby", 0, "unknown", "image", jmsg.MediaBody{MediaObject: unknown})); !strings.Contains(f.Message, "unknown media") {
		t.Errorf("send of an unknown media id = %d %q, want a message saying unknown media", f.Code, f.Message)
	}
	// Refused sends give no one access.
	wantCode(t, carol, wire.OpGetResource, wire.ResourceReq{MediaID: img.MediaID}, jmsg.ServerRequestUserNoPermission)

	// Forwarding: bob sends alice's upload on to carol, who may then get it.
	bob.sendImage("carol", 0, "fwd", img)
	carol.resource(img.MediaID, true)
}
