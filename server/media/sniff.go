package media

import (
	"bytes"
	"net/http"
)

// sniffFormats maps http.DetectContentType results to the short format
// names JMessage clients send and expect ("format" of image and voice
// messages).
var sniffFormats = map[string]string{
	"image/jpeg":      "jpg",
	"image/png":       "png",
	"image/gif":       "gif",
	"image/bmp":       "bmp",
	"image/webp":      "webp",
	"image/x-icon":    "ico",
	"video/mp4":       "mp4",
	"video/webm":      "webm",
	"video/avi":       "avi",
	"audio/mpeg":      "mp3",
	"audio/wave":      "wav",
	"audio/aiff":      "aiff",
	"application/ogg": "ogg",
}

// Sniff returns the content type and short format name ("jpg", "png",
// "gif", "bmp", "webp", "mp4", "mov", "3gp", "m4a", "mp3", "amr", "awb",
// "wav", "ogg", …) of data beginning with head; at most the first 512
// bytes are examined. format is "" when head is not a known media type;
// contentType is then http.DetectContentType's answer, such as
// "application/octet-stream". Uploads are typed by Sniff, never by what
// the client claims.
func Sniff(head []byte) (contentType, format string) {
	if len(head) > 512 {
		head = head[:512]
	}
	if ct, f := sniffExtra(head); f != "" {
		return ct, f
	}
	ct := http.DetectContentType(head)
	return ct, sniffFormats[ct]
}

// sniffExtra recognizes the mobile audio and video formats that
// DetectContentType does not: AMR voice notes, MP3 without an ID3 tag and
// MP4-family files by their major brand.
func sniffExtra(head []byte) (contentType, format string) {
	switch {
	case bytes.HasPrefix(head, []byte("#!AMR\n")):
		return "audio/amr", "amr"
	case bytes.HasPrefix(head, []byte("#!AMR-WB\n")):
		return "audio/amr-wb", "awb"
	case mp3Frame(head):
		return "audio/mpeg", "mp3"
	}
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return "", ""
	}
	switch brand := string(head[8:12]); {
	case brand == "M4A ":
		return "audio/mp4", "m4a"
	case brand == "qt  ":
		return "video/quicktime", "mov"
	case brand[:3] == "3gp":
		return "video/3gpp", "3gp"
	}
	return "", ""
}

// mp3Frame reports whether head starts with an MPEG audio layer III frame
// header: 11 sync bits, a defined version, layer III, and a bitrate and
// sample rate that are not reserved.
func mp3Frame(head []byte) bool {
	if len(head) < 4 || head[0] != 0xFF || head[1]&0xE0 != 0xE0 {
		return false
	}
	version, layer := head[1]>>3&3, head[1]>>1&3
	bitrate, rate := head[2]>>4, head[2]>>2&3
	return version != 1 && layer == 1 && bitrate != 0 && bitrate != 15 && rate != 3
}
