package wire

// Media requests (docs/MEDIA.md). The bytes go over HTTP; these give the
// client a token to upload with and a signed URL to download from.
const (
	OpGetUploadToken = "get_upload_token" // {} → UploadTokenResp
	OpGetResource    = "get_resource"     // ResourceReq → ResourceResp
)

// UploadTokenResp carries a token for the HTTP upload endpoint, bound to
// the app and the user, valid until ExpiresMs.
type UploadTokenResp struct {
	UpToken   string `json:"uptoken"`
	ExpiresMs int64  `json:"expires_ms"`
	UploadURL string `json:"upload_url"` // e.g. http://host:port/v1/media
}

// ResourceReq asks for a download URL of a media id; Thumb asks for an
// image's thumbnail.
type ResourceReq struct {
	MediaID string `json:"media_id"`
	Thumb   bool   `json:"thumb,omitempty"`
}

// ResourceResp is a signed, short-lived download URL and the CRC-32 and
// size of the bytes it serves (the thumbnail's for a thumbnail).
type ResourceResp struct {
	URL   string `json:"url"`
	CRC32 uint32 `json:"crc32"`
	FSize int64  `json:"fsize"`
}
