package client

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// DownloadOptions are optional settings of DownloadMedia.
type DownloadOptions struct {
	// Thumb fetches the thumbnail of an image or video message instead of
	// the original: again, after an automatic download failed or the file
	// was deleted.
	Thumb bool
	// Progress, if set, is called as bytes arrive with the bytes held so
	// far and the total, on the calling goroutine.
	Progress func(got, total int64)
}

// offlineAutoDownloads is how many media messages of one conversation's
// offline batch get their thumbnail (voice: the audio) before the batch is
// reported (sdk.md §6.3).
const offlineAutoDownloads = 20

// autoParallel is how many automatic downloads run at once.
const autoParallel = 4

// DownloadMedia fetches the original of an image, voice, file or video
// message (or, with opt.Thumb, the thumbnail of an image or video) into
// the user's directory under DataDir, checks its size and CRC-32 against
// the message, records the path in the local store (later fetches of the
// message show it in the content's Path or ThumbPath) and returns it. A
// file already downloaded and still intact is returned without a
// download. An interrupted download is resumed by the next call.
//
// The message is read from the local store by its ID, so m may be any
// snapshot of it.
//
// Errors: 861101, 865002 (nil message), 865003 (no such message in the
// local store), 863004, 864001 (not an image, voice, file or video
// message, a retracted one included; Thumb for a voice or file message),
// 864002 (the message names no usable media id), 864003 (the stored
// content has no usable CRC-32: "media_crc32" missing or not an integer
// in 0..2^32-1, or "fsize" not positive; checked before any download — a
// CRC-32 of 0 is valid, as bytes can have it), 864004 (the bytes do not have the message's size
// and CRC-32; the partial file is removed), 860015 (network or HTTP
// failure, including a lost connection to jmsgd while asking for the
// URL), 865012 (ctx cancelled; what arrived is kept for the next call),
// and server codes of get_resource (800020 no permission).
func (c *Client) DownloadMedia(ctx context.Context, m *Message, opt DownloadOptions) (string, error) {
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	if m == nil {
		return "", jmsg.E(jmsg.SDKParamMessageNil)
	}
	s, err := c.session()
	if err != nil {
		return "", err
	}
	row, err := s.db.MessageByID(ctx, m.ID)
	if errors.Is(err, localstore.ErrNotFound) {
		return "", jmsg.E(jmsg.SDKMessageNotPrepared)
	} else if err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	t, err := downloadTarget(row, opt.Thumb)
	if err != nil {
		return "", err
	}
	path, err := s.download(ctx, row, t, opt.Progress)
	if err != nil {
		if isCanceled(ctx, err) {
			return "", jmsg.Wrap(jmsg.SDKMessageCancelDownload, err)
		}
		return "", err
	}
	return path, nil
}

// dlTarget is one file of a message to download.
type dlTarget struct {
	part    string // partMedia or partThumb: which path column
	mediaID string
	kind    jmsg.MediaKind
	thumb   bool  // ask get_resource for the server's thumbnail
	want    *want // the size and CRC-32 the message gives; nil: as get_resource answers
	format  string
}

// downloadTarget says what to download for a stored message: errors
// 864001, 864002, 864003.
func downloadTarget(r localstore.Message, thumb bool) (dlTarget, error) {
	var doc jmsg.Doc
	if json.Unmarshal([]byte(r.Content), &doc) != nil {
		return dlTarget{}, jmsg.E(jmsg.SDKNotMediaMessage)
	}
	t := jmsg.ParseContentType(doc.MsgType)
	var obj json.RawMessage = doc.MsgBody
	target := dlTarget{part: partMedia}
	switch t {
	case jmsg.ContentImage:
		target.kind = jmsg.MediaImage
		if thumb {
			target.part, target.thumb = partThumb, true
		}
	case jmsg.ContentVoice, jmsg.ContentFile:
		if thumb {
			return dlTarget{}, jmsg.Errorf(jmsg.SDKNotMediaMessage, "a %s message has no thumbnail", doc.MsgType)
		}
		target.kind = jmsg.MediaKind(doc.MsgType)
	case jmsg.ContentVideo:
		var b map[string]json.RawMessage
		if json.Unmarshal(doc.MsgBody, &b) != nil {
			return dlTarget{}, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "unreadable video body")
		}
		obj, target.kind = b["video"], jmsg.MediaVideo
		if thumb {
			// A video's thumbnail is an image of its own.
			obj, target.part, target.kind = b["thumb"], partThumb, jmsg.MediaImage
		}
	default:
		return dlTarget{}, jmsg.E(jmsg.SDKNotMediaMessage)
	}
	var o struct {
		MediaID string          `json:"media_id"`
		CRC     json.RawMessage `json:"media_crc32"`
		FSize   json.RawMessage `json:"fsize"`
		Format  string          `json:"format"`
	}
	if json.Unmarshal(obj, &o) != nil {
		return dlTarget{}, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "unreadable media object")
	}
	if k, ok := jmsg.ParseMediaID(o.MediaID); !ok || k != target.kind {
		return dlTarget{}, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "no usable media id")
	}
	target.mediaID, target.format = o.MediaID, o.Format
	if target.thumb {
		return target, nil // the thumbnail's CRC comes with its URL
	}
	crc, err := strconv.ParseUint(string(o.CRC), 10, 32)
	if err != nil {
		return dlTarget{}, jmsg.Errorf(jmsg.SDKMediaCrcCodeIllegal, "media_crc32 %s", o.CRC)
	}
	size, err := strconv.ParseInt(string(o.FSize), 10, 64)
	if err != nil || size <= 0 {
		return dlTarget{}, jmsg.Errorf(jmsg.SDKMediaCrcCodeIllegal, "fsize %s", o.FSize)
	}
	target.want = &want{Size: size, CRC: uint32(crc)}
	return target, nil
}

// download fetches t for row r unless an intact copy is recorded, records
// it and returns its path.
func (s *session) download(ctx context.Context, r localstore.Message, t dlTarget, progress func(got, total int64)) (string, error) {
	dir := s.db.Dir()
	id := t.mediaID[strings.LastIndexByte(t.mediaID, '/')+1:]
	stem := filepath.Join(dir, mediaDir, string(t.kind), id)
	if t.thumb {
		stem += "-thumb"
	}
	unlock, err := s.downloads.lock(ctx, stem)
	if err != nil {
		return "", err
	}
	defer unlock()
	if r2, err := s.db.MessageByID(ctx, r.ID); err == nil {
		r = r2 // another call may have just finished
	}
	if r.ContentType == int(jmsg.ContentPrompt) {
		return "", errRetracted()
	}
	recorded := r.MediaPath
	if t.part == partThumb {
		recorded = r.ThumbPath
	}
	if p := absPath(dir, recorded); p != "" && intact(p, t.want) {
		return p, nil
	}
	var res wire.ResourceResp
	if err := s.call(ctx, wire.OpGetResource, wire.ResourceReq{MediaID: t.mediaID, Thumb: t.thumb}, &res); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if jmsg.CodeOf(err) == jmsg.SDKNetworkOtherError || jmsg.CodeOf(err) == jmsg.SDKNetworkResultUnexpected {
			return "", jmsg.Wrap(jmsg.SDKNetworkDownloadFailed, err)
		}
		return "", err
	}
	if res.URL == "" {
		return "", jmsg.Errorf(jmsg.SDKNetworkDownloadFailed, "get_resource answered without a URL")
	}
	w := t.want
	if w == nil {
		if res.FSize <= 0 {
			return "", jmsg.Errorf(jmsg.SDKNetworkDownloadFailed, "get_resource answered fsize %d", res.FSize)
		}
		w = &want{Size: res.FSize, CRC: res.CRC32}
	}
	if err := os.MkdirAll(filepath.Dir(stem), 0o700); err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	part := stem + ".part"
	ctype, err := s.c.media.download(ctx, res.URL, part, *w, progress)
	if err != nil {
		return "", err
	}
	ext := extOf(t.format)
	if t.thumb || ext == "" {
		ext = extOfContentType(ctype, ext)
	}
	final := stem + ext
	if err := os.Rename(part, final); err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	rel, _ := relPath(dir, final)
	bg := context.Background()
	var kept bool
	if t.part == partThumb {
		kept, err = s.db.SetThumbPath(bg, r.ID, rel)
		if err == nil && kept && r.Status == int(jmsg.StatusReceiveDownloadFailed) {
			err = s.db.SetStatus(bg, r.ID, int(jmsg.StatusReceiveSucceed), 0)
		}
	} else {
		kept, err = s.db.SetMediaPath(bg, r.ID, rel)
	}
	if err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	if !kept {
		// Retracted during the download: its media files go.
		if used, err := s.db.Referenced(bg, rel); err == nil && !used {
			os.Remove(final)
		}
		return "", errRetracted()
	}
	return final, nil
}

// errRetracted is DownloadMedia's error for a message retracted before
// its media arrived.
func errRetracted() error { return jmsg.Errorf(jmsg.SDKNotMediaMessage, "the message was retracted") }

// intact reports whether the file at p exists and, when w is known, has
// its size and CRC-32.
func intact(p string, w *want) bool {
	if w == nil {
		fi, err := os.Stat(p)
		return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
	}
	size, crc, err := fileCRC(p)
	return err == nil && size == w.Size && crc == w.CRC
}

// extOfContentType returns the extension of an image type, else def.
func extOfContentType(ctype, def string) string {
	switch strings.TrimSpace(strings.Split(ctype, ";")[0]) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/bmp":
		return ".bmp"
	}
	return def
}

// autoDownload fetches, before newly stored messages are reported, the
// thumbnails of image and video messages and the audio of voice messages:
// the newest limit of them (0: all). It updates the rows (paths, status)
// in place; a failure sets a received message's status
// ReceiveDownloadFailed and is otherwise only logged.
func (s *session) autoDownload(ctx context.Context, rows []*localstore.Message, limit int) {
	var todo []*localstore.Message
	for i := len(rows) - 1; i >= 0 && (limit == 0 || len(todo) < limit); i-- {
		switch jmsg.ContentType(rows[i].ContentType) {
		case jmsg.ContentImage, jmsg.ContentVideo, jmsg.ContentVoice:
			todo = append(todo, rows[i])
		}
	}
	if len(todo) == 0 {
		return
	}
	sem := make(chan struct{}, autoParallel)
	var wg sync.WaitGroup
	for _, r := range todo {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.autoDownloadOne(ctx, r)
		}()
	}
	wg.Wait()
}

func (s *session) autoDownloadOne(ctx context.Context, r *localstore.Message) {
	thumb := jmsg.ContentType(r.ContentType) != jmsg.ContentVoice
	t, err := downloadTarget(*r, thumb)
	var path string
	if err == nil {
		path, err = s.download(ctx, *r, t, nil)
	}
	if err != nil {
		if ctx.Err() != nil {
			return // the session ends; the message is reported as stored
		}
		s.c.log.Warn("automatic media download failed", "msg", r.ID, "err", err)
		if r.Received {
			if err := s.db.SetStatus(context.Background(), r.ID, int(jmsg.StatusReceiveDownloadFailed), jmsg.CodeOf(err)); err == nil {
				r.Status, r.ErrorCode = int(jmsg.StatusReceiveDownloadFailed), jmsg.CodeOf(err)
			}
		}
		return
	}
	rel, _ := relPath(s.db.Dir(), path)
	if thumb {
		r.ThumbPath = rel
	} else {
		r.MediaPath = rel
	}
}

// rowPtrs returns pointers to the elements of rows.
func rowPtrs(rows []localstore.Message) []*localstore.Message {
	out := make([]*localstore.Message, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out
}
