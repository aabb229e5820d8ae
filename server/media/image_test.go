package media_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
	"time"

	"golang.org/x/image/bmp"

	"github.com/jmsg-im/jmsg/server/media"
)

var (
	red  = color.RGBA{0xFF, 0, 0, 0xFF}
	blue = color.RGBA{0, 0, 0xFF, 0xFF}
)

// halves returns a w×h image, red on the left half and blue on the right.
func halves(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			if x >= w/2 {
				c = blue
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// encode returns m in format "jpg", "png", "gif" or "bmp".
func encode(t testing.TB, format string, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "jpg":
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90})
	case "png":
		err = png.Encode(&buf, m)
	case "gif":
		err = gif.Encode(&buf, m, nil)
	case "bmp":
		err = bmp.Encode(&buf, m)
	default:
		t.Fatalf("encode: unknown format %q", format)
	}
	if err != nil {
		t.Fatalf("encoding %s: %v", format, err)
	}
	return buf.Bytes()
}

func TestSniff(t *testing.T) {
	img := halves(8, 8)
	tests := []struct {
		name   string
		head   []byte
		ct     string
		format string
	}{
		{"jpg", encode(t, "jpg", img), "image/jpeg", "jpg"},
		{"png", encode(t, "png", img), "image/png", "png"},
		{"gif", encode(t, "gif", img), "image/gif", "gif"},
		{"bmp", encode(t, "bmp", img), "image/bmp", "bmp"},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), "image/webp", "webp"},
		{"mp4", []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), "video/mp4", "mp4"},
		{"m4a", []byte("\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom"), "audio/mp4", "m4a"},
		{"mov", []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "), "video/quicktime", "mov"},
		{"3gp", []byte("\x00\x00\x00\x18ftyp3gp4\x00\x00\x02\x00isom3gp4"), "video/3gpp", "3gp"},
		{"amr", []byte("#!AMR\n\x3c\x48\xf5\x5f"), "audio/amr", "amr"},
		{"amr-wb", []byte("#!AMR-WB\n\x04\x10"), "audio/amr-wb", "awb"},
		{"mp3 id3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), "audio/mpeg", "mp3"},
		{"mp3 frame", []byte("\xFF\xFB\x90\x64\x00\x00"), "audio/mpeg", "mp3"},
		{"wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "audio/wave", "wav"},
		{"ogg", []byte("OggS\x00\x02\x00\x00"), "application/ogg", "ogg"},
		{"text", []byte("hello, world"), "text/plain; charset=utf-8", ""},
		{"html", []byte("<html><body>"), "text/html; charset=utf-8", ""},
		{"binary", []byte("\x00\x01\x02\x03\xFF\xFE"), "application/octet-stream", ""},
		{"ff00 not mp3", []byte("\xFF\xE0\xF0\x00"), "application/octet-stream", ""},
		{"empty", nil, "text/plain; charset=utf-8", ""},
	}
	for _, tc := range tests {
		ct, format := media.Sniff(tc.head)
		if ct != tc.ct || format != tc.format {
			t.Errorf("Sniff(%s) = %q, %q, want %q, %q", tc.name, ct, format, tc.ct, tc.format)
		}
	}
}

func TestImageInfo(t *testing.T) {
	img := halves(123, 45)
	for _, format := range []string{"jpg", "png", "gif", "bmp"} {
		f, w, h, err := media.ImageInfo(bytes.NewReader(encode(t, format, img)))
		if err != nil || f != format || w != 123 || h != 45 {
			t.Errorf("ImageInfo(%s 123x45) = %q, %d, %d, %v, want %q, 123, 45, nil", format, f, w, h, err, format)
		}
	}
	png := encode(t, "png", img)
	for name, data := range map[string][]byte{
		"text":          []byte("not an image at all"),
		"empty":         nil,
		"mp4":           []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"),
		"truncated png": png[:20],
	} {
		if f, w, h, err := media.ImageInfo(bytes.NewReader(data)); !errors.Is(err, media.ErrNotImage) {
			t.Errorf("ImageInfo(%s) = %q, %d, %d, %v, want ErrNotImage", name, f, w, h, err)
		}
	}
}

// checkHalves fails unless m is red on the left and blue on the right.
func checkHalves(t *testing.T, name string, m image.Image) {
	t.Helper()
	b := m.Bounds()
	y := b.Min.Y + b.Dy()/2
	for _, p := range []struct {
		x    int
		want color.RGBA
	}{{b.Min.X, red}, {b.Max.X - 1, blue}} {
		r, g, bl, _ := m.At(p.x, y).RGBA()
		got := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xFF}
		if absDiff(got.R, p.want.R) > 40 || absDiff(got.G, p.want.G) > 40 || absDiff(got.B, p.want.B) > 40 {
			t.Errorf("%s: pixel (%d,%d) = %v, want about %v", name, p.x, y, got, p.want)
		}
	}
}

func absDiff(a, b uint8) uint8 { return max(a, b) - min(a, b) }

func TestThumbnail(t *testing.T) {
	tests := []struct {
		src          string
		w, h, side   int
		format       string
		wantW, wantH int
	}{
		{"jpg", 400, 300, 100, "jpg", 100, 75},
		{"jpg", 300, 400, 100, "jpg", 75, 100},
		{"png", 150, 500, 100, "png", 30, 100},
		{"gif", 320, 240, 64, "png", 64, 48},
		{"bmp", 1001, 333, 100, "png", 100, 33},
		{"png", 2000, 3, 100, "png", 100, 1}, // no side rounds to 0
		{"png", 50, 40, 100, "png", 50, 40},  // never upscaled
		{"jpg", 100, 100, 100, "jpg", 100, 100},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s %dx%d to %d", tc.src, tc.w, tc.h, tc.side)
		data, format, w, h, err := media.Thumbnail(bytes.NewReader(encode(t, tc.src, halves(tc.w, tc.h))), tc.side)
		if err != nil || format != tc.format || w != tc.wantW || h != tc.wantH {
			t.Errorf("Thumbnail(%s) = %q, %d, %d, %v, want %q, %d, %d, nil", name, format, w, h, err, tc.format, tc.wantW, tc.wantH)
			continue
		}
		decode := png.Decode
		if format == "jpg" {
			decode = jpeg.Decode
		}
		m, err := decode(bytes.NewReader(data))
		if err != nil || m.Bounds().Dx() != w || m.Bounds().Dy() != h {
			t.Errorf("Thumbnail(%s): result decodes to %v, %v, want %s %dx%d", name, m.Bounds(), err, format, w, h)
			continue
		}
		checkHalves(t, name, m)
	}
}

// An animated GIF gives a thumbnail of its first frame.
func TestThumbnailGIFFirstFrame(t *testing.T) {
	frame := func(c color.Color) *image.Paletted {
		m := image.NewPaletted(image.Rect(0, 0, 40, 20), palette.Plan9)
		for i := range m.Pix {
			m.Pix[i] = uint8(m.Palette.Index(c))
		}
		return m
	}
	var buf bytes.Buffer
	anim := &gif.GIF{Image: []*image.Paletted{frame(red), frame(blue)}, Delay: []int{10, 10}}
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	data, format, w, h, err := media.Thumbnail(&buf, 20)
	if err != nil || format != "png" || w != 20 || h != 10 {
		t.Fatalf("Thumbnail(animated gif) = %q, %d, %d, %v, want png, 20, 10, nil", format, w, h, err)
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding thumbnail: %v", err)
	}
	if r, _, b, _ := m.At(10, 5).RGBA(); r>>8 < 0xC0 || b>>8 > 0x40 {
		t.Errorf("Thumbnail(animated gif) pixel = %v, want the first frame's red", m.At(10, 5))
	}
}

func TestThumbnailRefuses(t *testing.T) {
	img := encode(t, "png", halves(10, 10))
	for name, data := range map[string][]byte{
		"text":          []byte("not an image at all"),
		"empty":         nil,
		"truncated png": img[:len(img)/2],
	} {
		if _, f, w, h, err := media.Thumbnail(bytes.NewReader(data), 100); !errors.Is(err, media.ErrNotImage) {
			t.Errorf("Thumbnail(%s) = %q, %d, %d, %v, want ErrNotImage", name, f, w, h, err)
		}
	}
	if _, _, _, _, err := media.Thumbnail(bytes.NewReader(img), 0); err == nil {
		t.Errorf("Thumbnail(png, maxSide 0) = nil error, want error")
	}
}

// pngBomb returns a valid 1-bit grayscale PNG of w×h black pixels: a few
// kilobytes of compressed zeros that decode to w*h bytes of image.Gray.
// With header only, it stops after the IHDR chunk.
func pngBomb(t testing.TB, w, h uint32, headerOnly bool) []byte {
	t.Helper()
	var out bytes.Buffer
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 1, 0, 0, 0, 0)) // depth 1, gray, no interlace
	if headerOnly {
		return out.Bytes()
	}
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	row := make([]byte, 1+(w+7)/8) // filter byte 0, then zero pixels
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

func TestThumbnailBomb(t *testing.T) {
	for _, tc := range []struct {
		name       string
		w, h       uint32
		headerOnly bool
	}{
		{"100000x100000 header", 100000, 100000, true},
		{"10000x6000 complete", 10000, 6000, false}, // 60 MP; decodable, 60 MB
		{"50000001x1 complete", 50_000_001, 1, false},
	} {
		data := pngBomb(t, tc.w, tc.h, tc.headerOnly)
		if f, w, h, err := media.ImageInfo(bytes.NewReader(data)); err != nil || f != "png" || w != int(tc.w) || h != int(tc.h) {
			t.Errorf("ImageInfo(%s) = %q, %d, %d, %v, want png, %d, %d, nil", tc.name, f, w, h, err, tc.w, tc.h)
		}
		start := time.Now()
		_, f, w, h, err := media.Thumbnail(bytes.NewReader(data), 100)
		if !errors.Is(err, media.ErrImageTooBig) {
			t.Errorf("Thumbnail(%s, %d bytes) = %q, %d, %d, %v, want ErrImageTooBig", tc.name, len(data), f, w, h, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Thumbnail(%s) took %v, want a quick refusal", tc.name, d)
		}
	}
}
