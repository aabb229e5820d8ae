package client

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/jmsg-im/jmsg"
)

// Media contents. An app creates one from a local file (NewImageContent,
// NewVoiceContent, NewFileContent, NewVideoContent) and sends it like any
// content; the SDK copies the file into its own data directory when the
// message is created, uploads it in the outbox and fills in the media
// object the server returns (docs/MEDIA.md). Received media contents
// carry the media object; their bytes are fetched with
// Client.DownloadMedia (image and video thumbnails arrive with the
// message).
//
// The media object fields (jmsg.MediaObject: MediaID, CRC32, FSize,
// Format, Hash, Width, Height, FName) are the server's: an app does not
// set them. Before the upload, MediaID is "" and CRC32 and FSize describe
// the local copy.

// MediaContent is the content of a media message: *ImageContent,
// *VoiceContent, *FileContent or *VideoContent.
type MediaContent interface {
	Content
	// Media returns the media object of the original (for a video, the
	// video; MediaID "" until uploaded).
	Media() jmsg.MediaObject
	// LocalPath returns the local copy of the original: the SDK's copy of
	// a file this device sent, or where DownloadMedia put it; "" if none.
	LocalPath() string
	// Open opens the local copy of the original for reading; 864002 when
	// there is none (never downloaded, or deleted).
	Open() (*os.File, error)

	// parts returns the uploadable parts: the original, and a video's
	// thumbnail first.
	parts() []mediaPart
	// setLocal sets the local paths (absolute; "" for none).
	setLocal(path, thumb string)
	// clone returns a shallow copy.
	clone() MediaContent
}

// mediaPart is one uploaded file of a media content.
type mediaPart struct {
	name string // "media" or "thumb": the column and the upload state's key
	kind jmsg.MediaKind
	obj  *jmsg.MediaObject
	path *string
}

// ImageContent is an image message. ThumbPath is the local thumbnail,
// downloaded when the message arrives (sdk.md §6.3: for an offline batch,
// the newest 20 media messages of a conversation); Path is the original,
// set for images this device sent and once downloaded.
type ImageContent struct {
	jmsg.MediaObject
	Path      string
	ThumbPath string
	Extras    map[string]any
}

// VoiceContent is a voice message of Duration seconds.
type VoiceContent struct {
	jmsg.MediaObject
	Duration int
	Path     string
	Extras   map[string]any
}

// FileContent is a file message; FName is the file's name as shown to the
// receiver.
type FileContent struct {
	jmsg.MediaObject
	Path   string
	Extras map[string]any
}

// VideoContent is a video message: the video (the embedded media object,
// whose FName is the video's file name) and its thumbnail image (Thumb),
// uploaded separately. ThumbPath is the local thumbnail, downloaded when
// the message arrives; Path the video, set for videos this device sent
// and once downloaded.
type VideoContent struct {
	jmsg.MediaObject
	Thumb     jmsg.MediaObject
	Duration  int
	Path      string
	ThumbPath string
	Extras    map[string]any
}

// LocationContent is a location message; it carries no media.
type LocationContent struct {
	Latitude  float64 // -90..90
	Longitude float64 // -180..180
	Scale     int     // map zoom, ≥ 0
	Label     string  // the address shown
	Extras    map[string]any
}

// checkLocalFile checks that path names a non-empty regular file: 864002
// when it does not exist (or is not a file), 864005 when it is empty.
func checkLocalFile(path string) (int64, error) {
	if path == "" {
		return 0, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "no file given")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, jmsg.Wrap(jmsg.SDKMediaResourceMissing, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "%s is not a regular file", path)
	}
	if fi.Size() == 0 {
		return 0, jmsg.Errorf(jmsg.SDKMediaUploadEmptyFile, "%s is empty", path)
	}
	return fi.Size(), nil
}

// NewImageContent returns the content of an image message with the image
// at path (JPEG, PNG, GIF, BMP or WebP: the server checks). Errors: 864002
// (no such file), 864005 (the file is empty).
func NewImageContent(path string) (*ImageContent, error) {
	size, err := checkLocalFile(path)
	if err != nil {
		return nil, err
	}
	return &ImageContent{MediaObject: jmsg.MediaObject{FSize: size}, Path: path}, nil
}

// NewVoiceContent returns the content of a voice message with the audio
// at path, seconds long. Errors: 864002, 864005, 865001 (seconds ≤ 0).
func NewVoiceContent(path string, seconds int) (*VoiceContent, error) {
	if seconds <= 0 {
		return nil, jmsg.Errorf(jmsg.SDKParamContentInvalid, "duration %d", seconds)
	}
	size, err := checkLocalFile(path)
	if err != nil {
		return nil, err
	}
	return &VoiceContent{MediaObject: jmsg.MediaObject{FSize: size}, Duration: seconds, Path: path}, nil
}

// NewFileContent returns the content of a file message with the file at
// path, shown to the receiver as name (the base name of path when name is
// ""). Errors: 864002, 864005, 865001 (a name longer than 255 bytes or
// with '/', '\' or NUL).
func NewFileContent(path, name string) (*FileContent, error) {
	size, err := checkLocalFile(path)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = baseName(path)
	}
	if !validFileName(name) {
		return nil, jmsg.Errorf(jmsg.SDKParamContentInvalid, "file name %q", name)
	}
	return &FileContent{MediaObject: jmsg.MediaObject{FSize: size, FName: name}, Path: path}, nil
}

// NewVideoContent returns the content of a video message with the video
// at path, the thumbnail image at thumbPath and a duration of seconds.
// Errors: 864002 (either file missing), 864005 (either file empty),
// 865001 (seconds ≤ 0).
func NewVideoContent(path, thumbPath string, seconds int) (*VideoContent, error) {
	if seconds <= 0 {
		return nil, jmsg.Errorf(jmsg.SDKParamContentInvalid, "duration %d", seconds)
	}
	size, err := checkLocalFile(path)
	if err != nil {
		return nil, err
	}
	tsize, err := checkLocalFile(thumbPath)
	if err != nil {
		return nil, err
	}
	name := baseName(path)
	if !validFileName(name) {
		name = ""
	}
	return &VideoContent{MediaObject: jmsg.MediaObject{FSize: size, FName: name}, Thumb: jmsg.MediaObject{FSize: tsize},
		Duration: seconds, Path: path, ThumbPath: thumbPath}, nil
}

// NewLocationContent returns the content of a location message. Errors:
// 865001 (latitude outside -90..90, longitude outside -180..180, negative
// scale, a label that is not UTF-8 or longer than 1024 bytes).
func NewLocationContent(lat, lng float64, scale int, label string) (*LocationContent, error) {
	c := &LocationContent{Latitude: lat, Longitude: lng, Scale: scale, Label: label}
	if _, err := c.body(); err != nil {
		return nil, err
	}
	return c, nil
}

func baseName(path string) string {
	i := strings.LastIndexAny(path, `/\`)
	return path[i+1:]
}

func validFileName(name string) bool {
	return name != "" && len(name) <= 255 && utf8.ValidString(name) && !strings.ContainsAny(name, "/\\\x00")
}

// ContentType returns jmsg.ContentImage.
func (*ImageContent) ContentType() jmsg.ContentType { return jmsg.ContentImage }

// ContentType returns jmsg.ContentVoice.
func (*VoiceContent) ContentType() jmsg.ContentType { return jmsg.ContentVoice }

// ContentType returns jmsg.ContentFile.
func (*FileContent) ContentType() jmsg.ContentType { return jmsg.ContentFile }

// ContentType returns jmsg.ContentVideo.
func (*VideoContent) ContentType() jmsg.ContentType { return jmsg.ContentVideo }

// ContentType returns jmsg.ContentLocation.
func (*LocationContent) ContentType() jmsg.ContentType { return jmsg.ContentLocation }

// Media returns the image's media object.
func (c *ImageContent) Media() jmsg.MediaObject { return c.MediaObject }

// Media returns the voice's media object.
func (c *VoiceContent) Media() jmsg.MediaObject { return c.MediaObject }

// Media returns the file's media object.
func (c *FileContent) Media() jmsg.MediaObject { return c.MediaObject }

// Media returns the video's media object (the thumbnail's is Thumb).
func (c *VideoContent) Media() jmsg.MediaObject { return c.MediaObject }

// LocalPath returns Path.
func (c *ImageContent) LocalPath() string { return c.Path }

// LocalPath returns Path.
func (c *VoiceContent) LocalPath() string { return c.Path }

// LocalPath returns Path.
func (c *FileContent) LocalPath() string { return c.Path }

// LocalPath returns Path.
func (c *VideoContent) LocalPath() string { return c.Path }

// Open opens the local original (Path); 864002 if there is none.
func (c *ImageContent) Open() (*os.File, error) { return openLocal(c.Path) }

// OpenThumb opens the local thumbnail (ThumbPath); 864002 if there is
// none: fetch it with DownloadMedia and DownloadOptions.Thumb.
func (c *ImageContent) OpenThumb() (*os.File, error) { return openLocal(c.ThumbPath) }

// Open opens the local audio (Path); 864002 if there is none.
func (c *VoiceContent) Open() (*os.File, error) { return openLocal(c.Path) }

// Open opens the local file (Path); 864002 if there is none.
func (c *FileContent) Open() (*os.File, error) { return openLocal(c.Path) }

// Open opens the local video (Path); 864002 if there is none.
func (c *VideoContent) Open() (*os.File, error) { return openLocal(c.Path) }

// OpenThumb opens the local thumbnail (ThumbPath); 864002 if there is
// none.
func (c *VideoContent) OpenThumb() (*os.File, error) { return openLocal(c.ThumbPath) }

func openLocal(path string) (*os.File, error) {
	if path == "" {
		return nil, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "not stored locally; use DownloadMedia")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKMediaResourceMissing, err)
	}
	return f, nil
}

func (c *ImageContent) parts() []mediaPart {
	return []mediaPart{{name: partMedia, kind: jmsg.MediaImage, obj: &c.MediaObject, path: &c.Path}}
}

func (c *VoiceContent) parts() []mediaPart {
	return []mediaPart{{name: partMedia, kind: jmsg.MediaVoice, obj: &c.MediaObject, path: &c.Path}}
}

func (c *FileContent) parts() []mediaPart {
	return []mediaPart{{name: partMedia, kind: jmsg.MediaFile, obj: &c.MediaObject, path: &c.Path}}
}

func (c *VideoContent) parts() []mediaPart {
	return []mediaPart{
		{name: partThumb, kind: jmsg.MediaImage, obj: &c.Thumb, path: &c.ThumbPath},
		{name: partMedia, kind: jmsg.MediaVideo, obj: &c.MediaObject, path: &c.Path},
	}
}

func (c *ImageContent) setLocal(path, thumb string) { c.Path, c.ThumbPath = path, thumb }
func (c *VoiceContent) setLocal(path, _ string)     { c.Path = path }
func (c *FileContent) setLocal(path, _ string)      { c.Path = path }
func (c *VideoContent) setLocal(path, thumb string) { c.Path, c.ThumbPath = path, thumb }

func (c *ImageContent) clone() MediaContent { x := *c; return &x }
func (c *VoiceContent) clone() MediaContent { x := *c; return &x }
func (c *FileContent) clone() MediaContent  { x := *c; return &x }
func (c *VideoContent) clone() MediaContent { x := *c; return &x }

// Parts of a media message, as named in the local store.
const (
	partMedia = "media"
	partThumb = "thumb"
)

// uploaded reports whether every part of c has a media id.
func uploaded(c MediaContent) bool {
	for _, p := range c.parts() {
		if p.obj.MediaID == "" {
			return false
		}
	}
	return true
}

// mediaBody returns the msg_body of c. Once every part is uploaded the
// body must pass jmsg.CheckBody; before, only its local fields are
// checked (the outbox fills in the rest).
func mediaBody(c MediaContent, v any, extras map[string]any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamContentInvalid, err)
	}
	if extras != nil {
		// Extras go in as an object member of the body.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, jmsg.Wrap(jmsg.SDKParamContentInvalid, err)
		}
		e, err := json.Marshal(extras)
		if err != nil {
			return nil, jmsg.Wrap(jmsg.SDKParamContentInvalid, err)
		}
		m["extras"] = e
		if raw, err = json.Marshal(m); err != nil {
			return nil, jmsg.Wrap(jmsg.SDKParamContentInvalid, err)
		}
	}
	if uploaded(c) && !jmsg.CheckBody(c.ContentType().String(), raw) {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return raw, nil
}

func (c *ImageContent) body() (json.RawMessage, error) {
	if c == nil {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return mediaBody(c, c.MediaObject, c.Extras)
}

func (c *VoiceContent) body() (json.RawMessage, error) {
	if c == nil || c.Duration <= 0 {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return mediaBody(c, jmsg.MediaBody{MediaObject: c.MediaObject, Duration: c.Duration}, c.Extras)
}

func (c *FileContent) body() (json.RawMessage, error) {
	if c == nil || !validFileName(c.FName) {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return mediaBody(c, c.MediaObject, c.Extras)
}

func (c *VideoContent) body() (json.RawMessage, error) {
	if c == nil || c.Duration <= 0 {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return mediaBody(c, jmsg.VideoBody{Video: c.MediaObject, Thumb: c.Thumb, Duration: c.Duration, FName: c.FName}, c.Extras)
}

func (c *LocationContent) body() (json.RawMessage, error) {
	if c == nil || math.IsNaN(c.Latitude) || math.IsNaN(c.Longitude) {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	b := struct {
		jmsg.LocationBody
		Extras map[string]any `json:"extras,omitempty"`
	}{LocationBody: jmsg.LocationBody{Latitude: c.Latitude, Longitude: c.Longitude, Scale: c.Scale, Label: c.Label}, Extras: c.Extras}
	raw, err := json.Marshal(b)
	if err != nil || !jmsg.CheckBody("location", raw) {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return raw, nil
}

// decodeExtras decodes a body's extras object; nil when absent.
func decodeExtras(raw json.RawMessage) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// decodeMedia decodes the msg_body of a media or location message; nil
// for other types or a body that does not decode.
func decodeMedia(t jmsg.ContentType, body json.RawMessage) Content {
	switch t {
	case jmsg.ContentImage, jmsg.ContentVoice, jmsg.ContentFile:
		var b jmsg.MediaBody
		if json.Unmarshal(body, &b) != nil {
			return nil
		}
		switch t {
		case jmsg.ContentImage:
			return &ImageContent{MediaObject: b.MediaObject, Extras: decodeExtras(b.Extras)}
		case jmsg.ContentVoice:
			return &VoiceContent{MediaObject: b.MediaObject, Duration: b.Duration, Extras: decodeExtras(b.Extras)}
		default:
			return &FileContent{MediaObject: b.MediaObject, Extras: decodeExtras(b.Extras)}
		}
	case jmsg.ContentVideo:
		var b jmsg.VideoBody
		if json.Unmarshal(body, &b) != nil {
			return nil
		}
		c := &VideoContent{MediaObject: b.Video, Thumb: b.Thumb, Duration: b.Duration, Extras: decodeExtras(b.Extras)}
		if b.FName != "" {
			c.FName = b.FName
		}
		return c
	case jmsg.ContentLocation:
		var b jmsg.LocationBody
		if json.Unmarshal(body, &b) != nil {
			return nil
		}
		return &LocationContent{Latitude: b.Latitude, Longitude: b.Longitude, Scale: b.Scale, Label: b.Label,
			Extras: decodeExtras(b.Extras)}
	}
	return nil
}
