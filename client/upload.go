package client

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// Media uploads run in the outbox (outbox.go): a queued media message
// whose parts lack media ids is uploaded before its send frame goes out,
// and the messages after it wait. The steps follow sdk.md §5.4:
// get_upload_token (860020), the HTTP upload (860018, 898061, 860019),
// the media object stored in the message with status SendUploadSucceed,
// then the send.

// errRetryLater is an upload that could not start because the session's
// connection failed; the message stays queued.
type errRetryLater struct{ err error }

func (e errRetryLater) Error() string { return "upload postponed: " + e.err.Error() }
func (e errRetryLater) Unwrap() error { return e.err }

// errWithdrawn is an upload stopped because its message was withdrawn.
var errWithdrawn = errors.New("withdrawn while uploading")

// pendingMedia returns the media content of a queued row if some of its
// parts still have to be uploaded, with its local paths set.
func (s *session) pendingMedia(r localstore.Message) (MediaContent, jmsg.Doc, bool) {
	var doc jmsg.Doc
	if json.Unmarshal([]byte(r.Content), &doc) != nil {
		return nil, doc, false
	}
	mc, ok := decodeContent(doc.MsgType, doc.MsgBody).(MediaContent)
	if !ok || uploaded(mc) {
		return nil, doc, false
	}
	mc.setLocal(absPath(s.db.Dir(), r.MediaPath), absPath(s.db.Dir(), r.ThumbPath))
	return mc, doc, true
}

// uploadMedia uploads every part of mc, the content of queued row r, that
// has no media id (a video's thumbnail first), storing the message's
// document after each part, and sets the status SendUploadSucceed at the
// end. ctx ends when the message is withdrawn or the session ends.
func (s *session) uploadMedia(ctx context.Context, r localstore.Message, mc MediaContent, doc jmsg.Doc, progress func(sent, total int64)) error {
	var pending []mediaPart
	var total int64
	for _, p := range mc.parts() {
		if p.obj.MediaID == "" {
			pending = append(pending, p)
			total += p.obj.FSize
		}
	}
	auth, err := s.uploadAuth(ctx)
	if err != nil {
		return err
	}
	var done int64
	for i, p := range pending {
		path := *p.path
		if path == "" {
			return jmsg.Errorf(jmsg.SDKMediaResourceMissing, "no local copy of the %s", p.name)
		}
		size, crc, err := fileCRC(path)
		if err != nil {
			return jmsg.Wrap(jmsg.SDKMediaResourceMissing, err)
		}
		if size == 0 {
			return jmsg.E(jmsg.SDKMediaUploadEmptyFile)
		}
		req := uploadReq{Kind: p.kind, Path: path, Size: size}
		if p.name == partMedia && p.kind != jmsg.MediaImage {
			req.Name = p.obj.FName
		}
		base := done
		req.Progress = func(n int64) { progress(base+n, total) }
		obj, err := s.uploadPart(ctx, &auth, r.ID, p.name, req)
		if err != nil {
			return err
		}
		if k, ok := jmsg.ParseMediaID(obj.MediaID); !ok || k != p.kind || obj.FSize != size || obj.CRC32 != crc {
			return jmsg.Errorf(jmsg.SDKNetworkUploadFailed, "the server's media object %+v does not describe the %d bytes with CRC-32 %08x sent",
				obj, size, crc)
		}
		if obj.FName == "" {
			obj.FName = p.obj.FName
		}
		*p.obj = obj
		done += size
		body, err := mc.body()
		if err != nil {
			return jmsg.Wrap(jmsg.SDKNetworkUploadFailed, err)
		}
		doc.MsgBody = body
		raw, err := json.Marshal(doc)
		if err != nil {
			return jmsg.Wrap(jmsg.SDKUnknownError, err)
		}
		status := jmsg.StatusSending
		if i == len(pending)-1 {
			status = jmsg.StatusSendUploadSucceed
		}
		ok, err := s.db.UpdateQueuedContent(context.Background(), r.ID, string(raw), int(status))
		if err != nil {
			return jmsg.Wrap(jmsg.SDKUnknownError, err)
		}
		if !ok {
			return errWithdrawn
		}
	}
	return nil
}

// uploadAuth asks the server for an upload token: 860020 when it refuses
// or answers without one, errRetryLater when the connection fails.
func (s *session) uploadAuth(ctx context.Context) (uploadAuth, error) {
	var resp wire.UploadTokenResp
	if err := s.call(ctx, wire.OpGetUploadToken, struct{}{}, &resp); err != nil {
		if jmsg.CodeOf(err) == jmsg.SDKNetworkOtherError {
			return uploadAuth{}, errRetryLater{err}
		}
		return uploadAuth{}, jmsg.Wrap(jmsg.SDKNetworkUploadTokenGetFailed, err)
	}
	if resp.UpToken == "" || resp.UploadURL == "" {
		return uploadAuth{}, jmsg.Errorf(jmsg.SDKNetworkUploadTokenGetFailed, "answer without token or upload URL")
	}
	return uploadAuth{URL: strings.TrimSuffix(resp.UploadURL, "/"), AppKey: s.c.cfg.AppKey, Username: s.username,
		Token: resp.UpToken}, nil
}

// uploadPart uploads one file, resumably when it is larger than
// Config.ResumableThreshold (the upload id is kept in the local store, so
// a restarted process continues it). A rejected token is replaced once: it
// may have expired during a long upload.
func (s *session) uploadPart(ctx context.Context, a *uploadAuth, msgID int64, part string, req uploadReq) (jmsg.MediaObject, error) {
	for try := 0; ; try++ {
		var obj jmsg.MediaObject
		var err error
		if req.Size > s.c.cfg.ResumableThreshold {
			st := resumeState{Log: s.c.log.Info}
			if u, err := s.db.Upload(ctx, msgID, part); err == nil {
				st.ID, st.URL = u.UploadID, u.UploadURL
			}
			st.Save = func(id string) error {
				if id == "" {
					return s.db.DeleteUpload(context.Background(), msgID, part)
				}
				return s.db.SetUpload(context.Background(), localstore.Upload{MsgID: msgID, Part: part, UploadID: id,
					UploadURL: a.URL, Size: req.Size})
			}
			obj, err = s.c.media.resumable(ctx, *a, req, &st)
		} else {
			obj, err = s.c.media.upload(ctx, *a, req)
		}
		if jmsg.CodeOf(err) == jmsg.SDKNetworkUploadTokenVerifyFailed && try == 0 {
			na, terr := s.uploadAuth(ctx)
			if terr != nil {
				return obj, terr
			}
			*a = na
			continue
		}
		return obj, err
	}
}
