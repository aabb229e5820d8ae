package media

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// MaxImagePixels is the largest width*height Thumbnail decodes. A 50
// megapixel RGBA image is already 200 MB of memory; a few bytes of PNG
// header can claim far more.
const MaxImagePixels = 50_000_000

// Errors of the image helpers, possibly wrapped.
var (
	// ErrNotImage means the data is not an image of a supported format.
	ErrNotImage = errors.New("media: not a supported image")
	// ErrImageTooBig means the image claims more than MaxImagePixels.
	ErrImageTooBig = errors.New("media: image too big")
)

// imageCodec decodes one format. Formats are dispatched explicitly on the
// sniffed type rather than through image.Decode's global registry, so
// what is decoded does not depend on which packages the binary links.
type imageCodec struct {
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var imageCodecs = map[string]imageCodec{
	"jpg": {jpeg.DecodeConfig, jpeg.Decode},
	"png": {png.DecodeConfig, png.Decode},
	"gif": {gif.DecodeConfig, gif.Decode}, // gif.Decode keeps the first frame
	"bmp": {bmp.DecodeConfig, bmp.Decode},
	// The decoder refuses a frame larger than the canvas DecodeConfig reports.
	"webp": {webp.DecodeConfig, webp.Decode},
}

// ImageInfo reads the header of an image and returns its format (as
// Sniff names it: "jpg", "png", "gif", "bmp" or "webp") and dimensions,
// without decoding pixels. Other data yields an error wrapping ErrNotImage.
// It reads only as far as the header (plus buffering) and reports the
// dimensions the header claims, however large.
func ImageInfo(r io.Reader) (format string, width, height int, err error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	_, format = Sniff(head)
	codec, ok := imageCodecs[format]
	if !ok {
		return "", 0, 0, ErrNotImage
	}
	cfg, err := codec.decodeConfig(br)
	if err != nil {
		return "", 0, 0, fmt.Errorf("%w: %s header: %v", ErrNotImage, format, err)
	}
	return format, cfg.Width, cfg.Height, nil
}

// Thumbnail decodes a JPEG, PNG, GIF (its first frame), BMP or WebP image and
// scales it down so that its longer side is at most maxSide, keeping the
// aspect ratio; an image already that small keeps its size. JPEG sources
// give a JPEG (quality 80, format "jpg"), others a PNG (format "png"),
// whose alpha survives. width and height are those of the thumbnail.
//
// Before decoding, the header is checked: more than MaxImagePixels gives
// ErrImageTooBig, so a small file cannot make the decoder allocate
// gigabytes. Data that is not a supported image gives ErrNotImage. EXIF
// orientation is not applied.
func Thumbnail(r io.Reader, maxSide int) (data []byte, format string, width, height int, err error) {
	if maxSide < 1 {
		return nil, "", 0, 0, fmt.Errorf("media: thumbnail side %d < 1", maxSide)
	}
	// ImageInfo consumes the header; head keeps it for the full decode.
	var head bytes.Buffer
	br := bufio.NewReader(r)
	srcFormat, w, h, err := ImageInfo(io.TeeReader(br, &head))
	if err != nil {
		return nil, "", 0, 0, err
	}
	if w < 1 || h < 1 || int64(w)*int64(h) > MaxImagePixels {
		return nil, "", 0, 0, fmt.Errorf("%w: %dx%d", ErrImageTooBig, w, h)
	}
	src, err := imageCodecs[srcFormat].decode(io.MultiReader(&head, br))
	if err != nil {
		return nil, "", 0, 0, fmt.Errorf("%w: decoding %s: %v", ErrNotImage, srcFormat, err)
	}

	out := scaleDown(src, maxSide)
	var buf bytes.Buffer
	if srcFormat == "jpg" {
		format, err = "jpg", jpeg.Encode(&buf, out, &jpeg.Options{Quality: 80})
	} else {
		format, err = "png", png.Encode(&buf, out)
	}
	if err != nil {
		return nil, "", 0, 0, fmt.Errorf("media: encoding thumbnail: %w", err)
	}
	b := out.Bounds()
	return buf.Bytes(), format, b.Dx(), b.Dy(), nil
}

// scaleDown returns src scaled so its longer side is at most maxSide, or
// src itself if it already fits.
func scaleDown(src image.Image, maxSide int) image.Image {
	b := src.Bounds()
	w, h := fitSide(b.Dx(), b.Dy(), maxSide)
	if w == b.Dx() && h == b.Dy() {
		return src
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	return dst
}

// fitSide returns w×h scaled down, rounding, so the longer side is at most
// maxSide; no side becomes smaller than 1.
func fitSide(w, h, maxSide int) (int, int) {
	long := max(w, h)
	if long <= maxSide {
		return w, h
	}
	scale := func(n int) int {
		return max(1, int((int64(n)*int64(maxSide)+int64(long)/2)/int64(long)))
	}
	return scale(w), scale(h)
}
