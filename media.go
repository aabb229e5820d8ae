package jmsg

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MediaKind is the kind of an uploaded media object: the second part of
// its id and the upload's type parameter.
type MediaKind string

// Media kinds.
const (
	MediaImage MediaKind = "image"
	MediaVoice MediaKind = "voice"
	MediaFile  MediaKind = "file"
	MediaVideo MediaKind = "video"
)

// Valid reports whether k is a known kind.
func (k MediaKind) Valid() bool {
	return k == MediaImage || k == MediaVoice || k == MediaFile || k == MediaVideo
}

// MediaObject describes uploaded bytes: what the upload returns and what a
// media message's msg_body carries (docs/MEDIA.md).
type MediaObject struct {
	MediaID string `json:"media_id"`
	CRC32   uint32 `json:"media_crc32"`
	FSize   int64  `json:"fsize"`
	Format  string `json:"format"`
	Hash    string `json:"hash,omitempty"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
	FName   string `json:"fname,omitempty"`
}

// mediaIDPattern is the only shape of a media id jmsgd issues.
var mediaIDPattern = regexp.MustCompile(`^jmsg/(image|voice|file|video)/[A-Z2-7]{32}$`)

// ParseMediaID returns the kind of a media id, or false when id is not one
// jmsgd could have issued (a path, a URL, anything else).
func ParseMediaID(id string) (MediaKind, bool) {
	m := mediaIDPattern.FindStringSubmatch(id)
	if m == nil {
		return "", false
	}
	return MediaKind(m[1]), true
}

// VideoBody is the msg_body of a video message.
type VideoBody struct {
	Video    MediaObject     `json:"video"`
	Thumb    MediaObject     `json:"thumb"`
	Duration int             `json:"duration"`
	FName    string          `json:"fname,omitempty"`
	Extras   json.RawMessage `json:"extras,omitempty"`
}

// MediaBody is the msg_body of an image, voice or file message: the media
// object and the fields of its kind.
type MediaBody struct {
	MediaObject
	Duration int             `json:"duration,omitempty"` // voice, seconds
	Extras   json.RawMessage `json:"extras,omitempty"`
}

// LocationBody is the msg_body of a location message.
type LocationBody struct {
	Latitude  float64         `json:"latitude"`
	Longitude float64         `json:"longitude"`
	Scale     int             `json:"scale"`
	Label     string          `json:"label"`
	Extras    json.RawMessage `json:"extras,omitempty"`
}

// MediaRef is a media object a message body refers to, with the kind its
// place in the body requires.
type MediaRef struct {
	Kind   MediaKind
	Object MediaObject
}

// MediaRefs returns the media objects a checked body of msgType carries
// (none for text, custom and location).
func MediaRefs(msgType string, body []byte) []MediaRef {
	switch ParseContentType(msgType) {
	case ContentImage, ContentVoice, ContentFile:
		var b MediaBody
		if json.Unmarshal(body, &b) != nil {
			return nil
		}
		return []MediaRef{{Kind: MediaKind(msgType), Object: b.MediaObject}}
	case ContentVideo:
		var b VideoBody
		if json.Unmarshal(body, &b) != nil {
			return nil
		}
		return []MediaRef{{Kind: MediaVideo, Object: b.Video}, {Kind: MediaImage, Object: b.Thumb}}
	}
	return nil
}

// validMediaObject checks the shape of a media object of kind.
func validMediaObject(o MediaObject, kind MediaKind) bool {
	k, ok := ParseMediaID(o.MediaID)
	return ok && k == kind && o.FSize > 0 && utf8.ValidString(o.Format) && len(o.Format) <= 16 &&
		utf8.ValidString(o.FName) && len(o.FName) <= 255 && !strings.ContainsAny(o.FName, "/\\\x00") &&
		o.Width >= 0 && o.Height >= 0
}

func validBodyExtras(e json.RawMessage) bool {
	return len(e) == 0 || string(e) == "null" || IsJSONObject(e)
}

// checkMediaBody validates the msg_body of an image, voice, file, video or
// location message; see CheckBody.
func checkMediaBody(t ContentType, body []byte) bool {
	switch t {
	case ContentImage, ContentVoice, ContentFile:
		var b MediaBody
		if json.Unmarshal(body, &b) != nil || !validMediaObject(b.MediaObject, MediaKind(t.String())) || !validBodyExtras(b.Extras) {
			return false
		}
		switch t {
		case ContentImage:
			return b.Width > 0 && b.Height > 0
		case ContentVoice:
			return b.Duration > 0
		default:
			return b.FName != ""
		}
	case ContentVideo:
		var b VideoBody
		return json.Unmarshal(body, &b) == nil && validMediaObject(b.Video, MediaVideo) &&
			validMediaObject(b.Thumb, MediaImage) && b.Duration > 0 && validBodyExtras(b.Extras) &&
			utf8.ValidString(b.FName) && len(b.FName) <= 255
	case ContentLocation:
		var b LocationBody
		var present struct {
			Latitude  *float64 `json:"latitude"`
			Longitude *float64 `json:"longitude"`
		}
		if json.Unmarshal(body, &present) != nil || present.Latitude == nil || present.Longitude == nil {
			return false // both are required
		}
		return json.Unmarshal(body, &b) == nil && !math.IsNaN(b.Latitude) && b.Latitude >= -90 && b.Latitude <= 90 &&
			!math.IsNaN(b.Longitude) && b.Longitude >= -180 && b.Longitude <= 180 && b.Scale >= 0 &&
			utf8.ValidString(b.Label) && len(b.Label) <= 1024 && validBodyExtras(b.Extras)
	}
	return false
}
