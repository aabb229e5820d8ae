package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// mediaTests are the suite's cases of store.Media.
var mediaTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"MediaRecord", testMediaRecord},
	{"MediaByHash", testMediaByHash},
	{"CanReadMediaSingle", testCanReadMediaSingle},
	{"CanReadMediaGroup", testCanReadMediaGroup},
	{"CanReadMediaAvatar", testCanReadMediaAvatar},
	{"CanReadMediaRetention", testCanReadMediaRetention},
	{"Secret", testSecret},
	{"SecretConcurrent", testSecretConcurrent},
}

// mediaID returns the id jmsgd would issue for kind, made from label (at
// most 20 bytes) so that each test's ids are distinct and readable.
func mediaID(t testing.TB, kind jmsg.MediaKind, label string) string {
	t.Helper()
	if len(label) > 20 {
		t.Fatalf("mediaID(%q): label longer than 20 bytes", label)
	}
	id := "jmsg/" + string(kind) + "/" + base32.StdEncoding.EncodeToString(fmt.Appendf(nil, "%-20s", label))
	if k, ok := jmsg.ParseMediaID(id); !ok || k != kind {
		t.Fatalf("mediaID(%q, %q) = %q, which jmsg.ParseMediaID refuses", kind, label, id)
	}
	return id
}

// sha256Hex is the hash a media record of content carries.
func sha256Hex(content string) string {
	h := sha256.Sum256([]byte(content))
	return hex.EncodeToString(h[:])
}

// mediaRecord is an image record uploaded by uploader at ctime, its fields
// made from label.
func mediaRecord(t testing.TB, label string, uploader, ctime int64) store.MediaRecord {
	t.Helper()
	return store.MediaRecord{
		MediaObject: jmsg.MediaObject{
			MediaID: mediaID(t, jmsg.MediaImage, label), CRC32: 0x9000_0000 + uint32(len(label)), FSize: 1000 + int64(len(label)),
			Format: "png", Hash: sha256Hex(label), Width: 64, Height: 48, FName: label + ".png",
		},
		Kind: jmsg.MediaImage, UploaderUID: uploader, ContentType: "image/png",
		BlobKey: "blob/" + label, ThumbKey: "thumb/" + label, ThumbCRC32: 0xA000_0000, ThumbSize: 100, CTimeMs: ctime,
	}
}

func mustPutMedia(t testing.TB, s store.Store, app string, m store.MediaRecord) {
	t.Helper()
	if err := s.PutMedia(ctx(t), app, m); err != nil {
		t.Fatalf("PutMedia(%q, %s) = %v", app, m.MediaID, err)
	}
}

// canRead is CanReadMedia, failing the test on an error.
func canRead(t testing.TB, s store.Store, app, mediaID string, uid int64) bool {
	t.Helper()
	ok, err := s.CanReadMedia(ctx(t), app, mediaID, uid)
	if err != nil {
		t.Fatalf("CanReadMedia(%q, %s, uid %d) = %v", app, mediaID, uid, err)
	}
	return ok
}

// readCase is one expected answer of CanReadMedia.
type readCase struct {
	why  string
	app  string
	id   string
	uid  int64
	want bool
}

func checkReads(t testing.TB, s store.Store, cases []readCase) {
	t.Helper()
	for _, c := range cases {
		if got := canRead(t, s, c.app, c.id, c.uid); got != c.want {
			t.Errorf("CanReadMedia(%q, %s, uid %d) = %v, want %v: %s", c.app, c.id, c.uid, got, c.want, c.why)
		}
	}
}

// mediaMsg is a single-conversation message from → to carrying media ids.
func mediaMsg(app string, from, to int64, cid string, ms int64, ids ...string) store.NewMessage {
	m := msg(app, from, to, cid, ms)
	m.MediaIDs = ids
	return m
}

// groupMediaMsg is a message of a group conversation carrying media ids.
func groupMediaMsg(app string, from, conv int64, ms int64, ids ...string) store.NewMessage {
	return store.NewMessage{AppKey: app, SenderUID: from, ConvID: conv, CTimeMs: ms, Content: []byte(`{}`), MediaIDs: ids}
}

func testMediaRecord(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")

	// Every field survives, and unsigned values above 2^31 (CRC-32s) and
	// sizes above 2^32 keep their value.
	full := store.MediaRecord{
		MediaObject: jmsg.MediaObject{
			MediaID: mediaID(t, jmsg.MediaVideo, "full"), CRC32: 0xDEAD_BEEF, FSize: 5<<30 + 7, Format: "mp4",
			Hash: sha256Hex("full"), Width: 1920, Height: 1080, FName: "假期 video (1).mp4",
		},
		Kind: jmsg.MediaVideo, UploaderUID: a, ContentType: "video/mp4",
		BlobKey: "ab/cd/blob-full", ThumbKey: "ab/cd/thumb-full", ThumbCRC32: 0xFFFF_FFFE, ThumbSize: 54321, CTimeMs: 1_700_000_000_123,
	}
	// The zero values of the optional fields survive as well.
	bare := store.MediaRecord{
		MediaObject: jmsg.MediaObject{MediaID: mediaID(t, jmsg.MediaVoice, "bare"), CRC32: 0x8000_0000, FSize: 1, Hash: sha256Hex("bare")},
		Kind:        jmsg.MediaVoice, UploaderUID: a, BlobKey: "blob-bare", CTimeMs: 2,
	}
	for _, m := range []store.MediaRecord{full, bare} {
		mustPutMedia(t, s, appA, m)
	}
	for _, m := range []store.MediaRecord{full, bare} {
		if got, err := s.Media(ctx(t), appA, m.MediaID); err != nil || got != m {
			t.Errorf("Media(%s) = %+v, %v; want %+v", m.MediaID, got, err, m)
		}
		if got, err := s.MediaByHash(ctx(t), appA, m.Hash); err != nil || got != m {
			t.Errorf("MediaByHash(%s) = %+v, %v; want %+v", m.Hash, got, err, m)
		}
	}

	// An id is recorded once; a refused PutMedia leaves the first record.
	dup := full
	dup.UploaderUID, dup.BlobKey, dup.Hash, dup.CRC32 = a+1, "other-blob", sha256Hex("dup"), 1
	if err := s.PutMedia(ctx(t), appA, dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("PutMedia(taken id) = %v, want ErrExists", err)
	}
	if got, err := s.Media(ctx(t), appA, full.MediaID); err != nil || got != full {
		t.Errorf("Media(%s) after a refused PutMedia = %+v, %v; want %+v", full.MediaID, got, err, full)
	}
	if got, err := s.MediaByHash(ctx(t), appA, dup.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MediaByHash(hash of a refused PutMedia) = %+v, %v; want ErrNotFound", got, err)
	}

	unknown := mediaID(t, jmsg.MediaImage, "unknown")
	if got, err := s.Media(ctx(t), appA, unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Media(unknown id) = %+v, %v; want ErrNotFound", got, err)
	}
	// Another app sees none of it.
	for _, app := range []string{appB, "cccccccccccccccccccccccc"} {
		if got, err := s.Media(ctx(t), app, full.MediaID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Media(%q, A's media) = %+v, %v; want ErrNotFound", app, got, err)
		}
		if got, err := s.MediaByHash(ctx(t), app, full.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("MediaByHash(%q, A's hash) = %+v, %v; want ErrNotFound", app, got, err)
		}
	}
}

func testMediaByHash(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	other := mustCreateUser(t, s, appB, "alice")
	same := sha256Hex("same bytes")

	// Inserted newest first, so that insertion order is not the answer;
	// app B holds the oldest of all, which app A must not get.
	var recs []store.MediaRecord
	for _, r := range []struct {
		app      string
		label    string
		uploader int64
		ctime    int64
	}{
		{appA, "third", a, 3000},
		{appA, "first", b, 1000},
		{appA, "second", a, 2000},
		{appB, "elsewhere", other, 500},
		{appA, "unrelated", a, 10},
	} {
		m := mediaRecord(t, r.label, r.uploader, r.ctime)
		if r.label != "unrelated" {
			m.Hash = same
		}
		mustPutMedia(t, s, r.app, m)
		recs = append(recs, m)
	}
	first, elsewhere, unrelated := recs[1], recs[3], recs[4]
	for _, tc := range []struct {
		app  string
		hash string
		want store.MediaRecord
	}{
		{appA, same, first},
		{appB, same, elsewhere},
		{appA, unrelated.Hash, unrelated},
	} {
		if got, err := s.MediaByHash(ctx(t), tc.app, tc.hash); err != nil || got != tc.want {
			t.Errorf("MediaByHash(%q, %s) = %+v, %v; want the oldest %+v", tc.app, tc.hash, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ app, hash string }{
		{appA, sha256Hex("never uploaded")},
		{appB, unrelated.Hash},
		{appA, ""},
	} {
		if got, err := s.MediaByHash(ctx(t), tc.app, tc.hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("MediaByHash(%q, %q) = %+v, %v; want ErrNotFound", tc.app, tc.hash, got, err)
		}
	}
}

func testCanReadMediaSingle(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	up := mustCreateUser(t, s, appA, "uploader")
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	otherApp := mustCreateUser(t, s, appB, "alice")
	// Sent in alice–bobby, in a batch with another to alice–carol; video
	// and thumb travel together; one is sent nowhere.
	img := mediaRecord(t, "img", up, 1)
	video := mediaRecord(t, "video", up, 1)
	thumb := mediaRecord(t, "thumb", up, 1)
	toCarol := mediaRecord(t, "to-carol", up, 1)
	unsent := mediaRecord(t, "unsent", up, 1)
	retried := mediaRecord(t, "retried", up, 1)
	for _, m := range []store.MediaRecord{img, video, thumb, toCarol, unsent, retried} {
		mustPutMedia(t, s, appA, m)
	}

	checkReads(t, s, []readCase{
		{"the uploader", appA, img.MediaID, up, true},
		{"no message carries it yet", appA, img.MediaID, a, false},
	})
	res := mustAppend(t, s,
		mediaMsg(appA, a, b, "m1", 1, img.MediaID),
		mediaMsg(appA, a, c, "m2", 1, toCarol.MediaID),
	)
	mustAppend(t, s, mediaMsg(appA, b, a, "m3", 2, video.MediaID, thumb.MediaID))
	// A retry of m1 is the same message: what it claims to carry now is
	// not recorded.
	if r := mustAppend(t, s, mediaMsg(appA, a, b, "m1", 3, retried.MediaID))[0]; !r.Duplicate || r.MsgID != res[0].MsgID {
		t.Fatalf("Append(retry of m1) = %+v, want the duplicate of %+v", r, res[0])
	}
	checkReads(t, s, []readCase{
		{"the uploader", appA, img.MediaID, up, true},
		{"the sender", appA, img.MediaID, a, true},
		{"the recipient", appA, img.MediaID, b, true},
		{"not in the conversation", appA, img.MediaID, c, false},
		{"sent in the same batch, to another conversation", appA, toCarol.MediaID, b, false},
		{"the recipient of the other message of the batch", appA, toCarol.MediaID, c, true},
		{"the sender of the other message of the batch", appA, toCarol.MediaID, a, true},
		{"the second media of a message", appA, thumb.MediaID, a, true},
		{"the second media of a message", appA, thumb.MediaID, b, true},
		{"the first media of a message", appA, video.MediaID, a, true},
		{"not in the conversation", appA, video.MediaID, c, false},
		{"carried by no message", appA, unsent.MediaID, a, false},
		{"uploader of a media carried by no message", appA, unsent.MediaID, up, true},
		{"only claimed by a duplicate", appA, retried.MediaID, b, false},
		{"unknown media", appA, mediaID(t, jmsg.MediaImage, "nothing"), a, false},
		{"unknown user", appA, img.MediaID, 987654321, false},
		// Another app's user with the uploader's and the members' uid
		// numbers, and another app's user asking through either key.
		{"uploader's uid through another app", appB, img.MediaID, up, false},
		{"member's uid through another app", appB, img.MediaID, a, false},
		{"member's uid through another app", appB, img.MediaID, b, false},
		{"a user of another app", appB, img.MediaID, otherApp, false},
		{"a user of another app through A's key", appA, img.MediaID, otherApp, false},
		{"unknown app", "cccccccccccccccccccccccc", img.MediaID, b, false},
	})
}

func testCanReadMediaGroup(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	up := mustCreateUser(t, s, appA, "uploader")
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")
	e := mustCreateUser(t, s, appA, "erin1")
	m1, m2, m3 := mediaRecord(t, "m1", up, 1), mediaRecord(t, "m2", up, 1), mediaRecord(t, "m3", up, 1)
	// Carried by the events of carol's joining and bobby's leaving: the
	// first message carol may read and the last one bobby may.
	onJoin, onLeave := mediaRecord(t, "on-join", up, 1), mediaRecord(t, "on-leave", up, 1)
	for _, m := range []store.MediaRecord{m1, m2, m3, onJoin, onLeave} {
		mustPutMedia(t, s, appA, m)
	}
	eventWith := func(text string, ids ...string) store.NewMessage {
		ev := event(appA, a, text)
		ev.MediaIDs = ids
		return ev
	}
	g, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1},
		store.GroupMember{UID: b, JoinTimeMs: 1}, store.GroupMember{UID: d, JoinTimeMs: 1})
	at := []int64{
		mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Remove: []int64{d}, Event: event(appA, a, "david out")}).Seq,
		mustAppend(t, s, groupMediaMsg(appA, a, g.ConvID, 3, m1.MediaID))[0].Seq,
		mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: c, JoinTimeMs: 4}},
			Event: eventWith("carol in", onJoin.MediaID)}).Seq,
		mustAppend(t, s, groupMediaMsg(appA, b, g.ConvID, 5, m2.MediaID))[0].Seq,
		mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Remove: []int64{b}, Event: eventWith("bobby out", onLeave.MediaID)}).Seq,
		mustAppend(t, s, groupMediaMsg(appA, a, g.ConvID, 7, m3.MediaID))[0].Seq,
	}
	// The windows the cases below rely on.
	if want := []int64{2, 3, 4, 5, 6, 7}; !slices.Equal(at, want) {
		t.Fatalf("messages at seqs %v, want %v", at, want)
	}
	for _, w := range []struct{ uid, join, left int64 }{{a, 0, 0}, {b, 0, 6}, {c, 3, 0}, {d, 0, 2}} {
		if join, left := window(t, s, appA, g.ConvID, w.uid); join != w.join || left != w.left {
			t.Fatalf("MemberWindow(uid %d) = (%d, %d), want (%d, %d)", w.uid, join, left, w.join, w.left)
		}
	}
	checkReads(t, s, []readCase{
		{"seq 3: member throughout, sender", appA, m1.MediaID, a, true},
		{"seq 3: member at the time, left later", appA, m1.MediaID, b, true},
		{"seq 3: joined after it (join_seq 3)", appA, m1.MediaID, c, false},
		{"seq 3: left before it (left_seq 2)", appA, m1.MediaID, d, false},
		{"seq 3: never a member", appA, m1.MediaID, e, false},
		{"seq 3: the uploader, never a member", appA, m1.MediaID, up, true},
		{"seq 4: the event of the joining (join_seq 3)", appA, onJoin.MediaID, c, true},
		{"seq 4: member", appA, onJoin.MediaID, b, true},
		{"seq 4: left before it", appA, onJoin.MediaID, d, false},
		{"seq 5: member throughout", appA, m2.MediaID, a, true},
		{"seq 5: sender, left later", appA, m2.MediaID, b, true},
		{"seq 5: joined before it", appA, m2.MediaID, c, true},
		{"seq 5: left before it", appA, m2.MediaID, d, false},
		{"seq 6: the event of the leaving (left_seq 6)", appA, onLeave.MediaID, b, true},
		{"seq 6: member", appA, onLeave.MediaID, c, true},
		{"seq 6: never a member", appA, onLeave.MediaID, e, false},
		{"seq 7: member throughout, sender", appA, m3.MediaID, a, true},
		{"seq 7: left just before it (left_seq 6)", appA, m3.MediaID, b, false},
		{"seq 7: joined before it", appA, m3.MediaID, c, true},
		{"seq 7: left before it", appA, m3.MediaID, d, false},
		{"seq 7: never a member", appA, m3.MediaID, e, false},
	})
}

func testCanReadMediaAvatar(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	stranger := mustCreateUser(t, s, appA, "carol")
	otherApp := mustCreateUser(t, s, appB, "david")
	userAv, userAv2 := mediaRecord(t, "user-avatar", a, 1), mediaRecord(t, "user-avatar-2", a, 1)
	groupAv, groupAv2 := mediaRecord(t, "group-avatar", b, 1), mediaRecord(t, "group-avatar-2", b, 1)
	foreign := mediaRecord(t, "foreign", a, 1)
	for _, m := range []store.MediaRecord{userAv, userAv2, groupAv, groupAv2, foreign} {
		mustPutMedia(t, s, appA, m)
	}
	checkReads(t, s, []readCase{
		{"not an avatar yet", appA, userAv.MediaID, stranger, false},
		{"not an avatar yet", appA, groupAv.MediaID, stranger, false},
	})

	if _, err := s.UpdateProfile(ctx(t), appA, a, jmsg.UserInfo{Nickname: "Al", Avatar: userAv.MediaID}); err != nil {
		t.Fatalf("UpdateProfile(avatar) = %v", err)
	}
	grp := store.Group{AppKey: appA, Name: "group", Avatar: groupAv.MediaID, Type: 1, MaxMembers: 500, OwnerUID: b}
	g, _, err := s.CreateGroup(ctx(t), grp, []store.GroupMember{{UID: b, Role: 1, JoinTimeMs: 1}},
		func(store.Group) store.NewMessage { return event(appA, b, "created") })
	if err != nil {
		t.Fatalf("CreateGroup(avatar) = %v", err)
	}
	// App B naming A's media as an avatar grants nothing in app A.
	if _, err := s.UpdateProfile(ctx(t), appB, otherApp, jmsg.UserInfo{Avatar: foreign.MediaID}); err != nil {
		t.Fatalf("UpdateProfile(B, avatar) = %v", err)
	}
	checkReads(t, s, []readCase{
		{"a user's avatar, any user of the app", appA, userAv.MediaID, stranger, true},
		{"a user's avatar, the user", appA, userAv.MediaID, a, true},
		{"a group's avatar, a non-member", appA, groupAv.MediaID, stranger, true},
		{"a group's avatar, a non-member", appA, groupAv.MediaID, a, true},
		{"a user's avatar through another app", appB, userAv.MediaID, otherApp, false},
		{"a group's avatar through another app", appB, groupAv.MediaID, otherApp, false},
		{"avatar of a user of another app", appA, foreign.MediaID, stranger, false},
		{"no avatar yet", appA, userAv2.MediaID, stranger, false},
		{"no avatar yet", appA, groupAv2.MediaID, stranger, false},
	})

	// A replaced avatar is no longer public; the new one is.
	if _, err := s.UpdateProfile(ctx(t), appA, a, jmsg.UserInfo{Avatar: userAv2.MediaID}); err != nil {
		t.Fatalf("UpdateProfile(new avatar) = %v", err)
	}
	info := g
	info.Avatar = groupAv2.MediaID
	mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Info: &info, Event: event(appA, b, "new avatar")})
	checkReads(t, s, []readCase{
		{"a replaced user avatar", appA, userAv.MediaID, stranger, false},
		{"a replaced user avatar, its uploader", appA, userAv.MediaID, a, true},
		{"the new user avatar", appA, userAv2.MediaID, stranger, true},
		{"a replaced group avatar", appA, groupAv.MediaID, stranger, false},
		{"the new group avatar", appA, groupAv2.MediaID, stranger, true},
	})
	// An empty avatar makes nothing public.
	if _, err := s.UpdateProfile(ctx(t), appA, a, jmsg.UserInfo{}); err != nil {
		t.Fatalf("UpdateProfile(no avatar) = %v", err)
	}
	checkReads(t, s, []readCase{
		{"a removed user avatar", appA, userAv2.MediaID, stranger, false},
		{"the empty id", appA, "", stranger, false},
	})
}

func testCanReadMediaRetention(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	up := mustCreateUser(t, s, appA, "uploader")
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	gone, kept, both := mediaRecord(t, "gone", up, 1), mediaRecord(t, "kept", up, 1), mediaRecord(t, "both", up, 1)
	for _, m := range []store.MediaRecord{gone, kept, both} {
		mustPutMedia(t, s, appA, m)
	}
	mustAppend(t, s, mediaMsg(appA, a, b, "o1", 1000, gone.MediaID), mediaMsg(appA, a, b, "o2", 1000, both.MediaID))
	mustAppend(t, s, mediaMsg(appA, a, b, "n1", 9000, kept.MediaID), mediaMsg(appA, a, c, "n2", 9000, both.MediaID))
	checkReads(t, s, []readCase{
		{"before the purge", appA, gone.MediaID, b, true},
		{"before the purge", appA, both.MediaID, b, true},
	})
	if n, err := s.Purge(ctx(t), 5000); err != nil || n != 2 {
		t.Fatalf("Purge(5000) = %d, %v; want 2 deleted", n, err)
	}
	checkReads(t, s, []readCase{
		{"its message was purged", appA, gone.MediaID, a, false},
		{"its message was purged", appA, gone.MediaID, b, false},
		{"the uploader, after the purge", appA, gone.MediaID, up, true},
		{"its message is kept", appA, kept.MediaID, a, true},
		{"its message is kept", appA, kept.MediaID, b, true},
		{"purged in this conversation, kept in another", appA, both.MediaID, b, false},
		{"kept in this conversation", appA, both.MediaID, c, true},
		{"kept in one of the sender's conversations", appA, both.MediaID, a, true},
	})
	// A new message with the purged media grants it again.
	mustAppend(t, s, mediaMsg(appA, b, a, "n3", 10000, gone.MediaID))
	checkReads(t, s, []readCase{{"sent again after the purge", appA, gone.MediaID, b, true}})
}

func testSecret(t *testing.T, s store.Store) {
	var calls int
	gen := func(v string) func() []byte {
		return func() []byte {
			calls++
			return []byte(v)
		}
	}
	secret := func(name string, g func() []byte) []byte {
		t.Helper()
		v, err := s.Secret(ctx(t), name, g)
		if err != nil {
			t.Fatalf("Secret(%q) = %v", name, err)
		}
		return v
	}
	first := secret("url-signing", gen("\x00\xffkey-1"))
	if string(first) != "\x00\xffkey-1" || calls != 1 {
		t.Fatalf("Secret(new name) = %q after %d calls of gen, want %q after 1", first, calls, "\x00\xffkey-1")
	}
	// The caller may scribble on what it got.
	first[0] = 'X'
	if again := secret("url-signing", gen("key-2")); string(again) != "\x00\xffkey-1" || calls != 1 {
		t.Errorf("Secret(existing name) = %q after %d calls of gen, want %q without calling gen", again, calls, "\x00\xffkey-1")
	}
	if other := secret("cookie", gen("key-3")); string(other) != "key-3" || calls != 2 {
		t.Errorf("Secret(another name) = %q after %d calls of gen, want %q after 2", other, calls, "key-3")
	}
	if again := secret("url-signing", gen("key-4")); string(again) != "\x00\xffkey-1" || calls != 2 {
		t.Errorf("Secret(first name) after another = %q after %d calls of gen, want %q without calling gen", again, calls, "\x00\xffkey-1")
	}
	if again := secret("cookie", gen("key-5")); string(again) != "key-3" || calls != 2 {
		t.Errorf("Secret(second name) again = %q after %d calls of gen, want %q without calling gen", again, calls, "key-3")
	}
}

// testSecretConcurrent: servers asking for a new secret at once all get
// the same bytes, whichever gen won.
func testSecretConcurrent(t *testing.T, s store.Store) {
	const n = 8
	var calls atomic.Int64
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = s.Secret(ctx(t), "shared", func() []byte {
				return fmt.Appendf(nil, "secret-%d-%d", i, calls.Add(1))
			})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Secret() in goroutine %d = %v", i, errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("Secret() in goroutine %d = %q, goroutine 0 got %q; want the same bytes", i, got[i], got[0])
		}
	}
	if v, err := s.Secret(ctx(t), "shared", func() []byte { return []byte("late") }); err != nil || !bytes.Equal(v, got[0]) {
		t.Errorf("Secret() afterwards = %q, %v; want %q", v, err, got[0])
	}
}
