package media

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/apperr"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := NewStore(t.TempDir(), Limits{Image: 1 << 20, Audio: 1 << 20}, ImageLimits{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stored returns the bytes Save kept for a.
func stored(t *testing.T, s *Store, a Asset) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir(), strings.TrimPrefix(a.Path, "/uploads/")))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func storedFiles(t *testing.T, s *Store) int {
	n := 0
	filepath.Walk(s.Dir(), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func testImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 128, 255})
		}
	}
	return m
}

func encodePNG(t *testing.T, m image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, m image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk builds a chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// withChunk inserts a chunk after IHDR.
func withChunk(p []byte, chunk []byte) []byte {
	at := 8 + 12 + 13
	return append(append(append([]byte{}, p[:at]...), chunk...), p[at:]...)
}

// gpsExif is an APP1 EXIF segment whose IFD0 holds an orientation and a
// GPS IFD with a latitude, as phones write them.
func gpsExif(orientation uint16) []byte {
	bo := binary.BigEndian
	t := []byte("MM\x00\x2a\x00\x00\x00\x08")
	t = bo.AppendUint16(t, 2)
	t = append(t, 0x01, 0x12, 0, 3, 0, 0, 0, 1)
	t = bo.AppendUint16(t, orientation)
	t = append(t, 0, 0)
	t = append(t, 0x88, 0x25, 0, 4, 0, 0, 0, 1) // GPSInfo IFD pointer, LONG
	t = bo.AppendUint32(t, 38)
	t = append(t, 0, 0, 0, 0) // no next IFD
	// GPS IFD at 38: GPSLatitudeRef "N", GPSLatitude 3 rationals
	t = bo.AppendUint16(t, 2)
	t = append(t, 0, 1, 0, 2, 0, 0, 0, 2, 'N', 0, 0, 0)
	t = append(t, 0, 2, 0, 5, 0, 0, 0, 3)
	t = bo.AppendUint32(t, 68)
	t = append(t, 0, 0, 0, 0)
	for _, v := range []uint32{48, 1, 51, 1, 2417, 100} { // 48° 51' 24.17": Paris
		t = bo.AppendUint32(t, v)
	}
	t = append(t, "GPSMARKER-home-address"...)
	payload := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xFF, 0xE1}
	seg = bo.AppendUint16(seg, uint16(len(payload)+2))
	return append(seg, payload...)
}

func jpegSegment(marker byte, payload string) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{0xFF, marker}, uint16(len(payload)+2)), payload...)
}

func insertAfterSOI(j, seg []byte) []byte {
	return append(append(append([]byte{}, j[:2]...), seg...), j[2:]...)
}

func TestImageBombRefusedFromItsHeader(t *testing.T) {
	s := newStore(t)
	p := encodePNG(t, testImage(4, 4))
	// Declare 20000×20000 in IHDR (1.6 GB as RGBA) and fix its CRC: the
	// file stays a few hundred bytes.
	ihdr := append([]byte{}, p[16:29]...)
	binary.BigEndian.PutUint32(ihdr[0:], 20000)
	binary.BigEndian.PutUint32(ihdr[4:], 20000)
	bomb := append(append(append([]byte{}, p[:8]...), pngChunk("IHDR", ihdr)...), p[33:]...)
	for name, data := range map[string][]byte{
		"png 20000x20000": bomb,
		"gif 10799 wide":  append([]byte("GIF89a/*\x01\x00\x00\x00\x00"), []byte("\x3b*/=alert(1)//")...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Save(bytes.NewReader(data))
			if e := apperr.From(err); e.Code != apperr.TooLarge || !strings.Contains(e.Message, "pixels") {
				t.Fatalf("got %v, want payload_too_large naming the pixel limit", err)
			}
		})
	}
	// A tighter configured limit applies too.
	small, _ := NewStore(t.TempDir(), Limits{Image: 1 << 20}, ImageLimits{MaxSide: 100, MaxPixels: 5000})
	if _, err := small.Save(bytes.NewReader(encodePNG(t, testImage(80, 80)))); apperr.From(err).Code != apperr.TooLarge {
		t.Fatalf("80x80 over a 5000 px limit: %v", err)
	}
	if _, err := small.Save(bytes.NewReader(encodePNG(t, testImage(60, 60)))); err != nil {
		t.Fatalf("60x60: %v", err)
	}
	if n := storedFiles(t, s); n != 0 {
		t.Fatalf("%d files kept after refusals", n)
	}
}

func TestImagesThatDoNotDecodeAreRefused(t *testing.T) {
	s := newStore(t)
	p := encodePNG(t, testImage(16, 16))
	j := encodeJPEG(t, testImage(16, 16))
	badIDAT := bytes.Clone(p)
	i := bytes.Index(badIDAT, []byte("IDAT"))
	for k := i + 4; k < i+20; k++ {
		badIDAT[k] ^= 0x5a
	}
	for name, data := range map[string][]byte{
		"png with a broken IDAT":   badIDAT,
		"png cut short":            p[:len(p)-20],
		"jpeg cut short":           j[:len(j)/2],
		"png signature then html":  append([]byte("\x89PNG\r\n\x1a\n"), "<html><script>alert(1)</script></html>"...),
		"gif header then script":   []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00<script>alert(1)</script>"),
		"jpeg magic then zip":      append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, "PK\x03\x04 zip"...),
		"webp header, no bitmap":   []byte("RIFF\x0c\x00\x00\x00WEBPJUNK\x00\x00\x00\x00"),
		"png with an extra IHDR":   withChunk(p, pngChunk("IHDR", p[16:29])),
		"gif whose frame is empty": []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x00\x3b"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Save(bytes.NewReader(data))
			if e := apperr.From(err); e.Code != apperr.UnsupportedMedia {
				t.Fatalf("got %v, want unsupported_media_type", err)
			}
		})
	}
	if n := storedFiles(t, s); n != 0 {
		t.Fatalf("%d files kept after refusals", n)
	}
}

func TestPolyglotTailsAndTextAreDropped(t *testing.T) {
	s := newStore(t)
	m := testImage(16, 16)
	p := encodePNG(t, m)
	zip := []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00payload.html<html><script>alert(document.cookie)</script>PK\x05\x06")
	tagged := withChunk(p, pngChunk("tEXt", []byte("Comment\x00<script>alert(2)</script>")))
	tagged = withChunk(tagged, pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>GPSMARKER</x:xmpmeta>")))
	for name, data := range map[string][]byte{
		"png + html":        append(bytes.Clone(p), "<!doctype html><script>alert(1)</script>"...),
		"png + zip":         append(bytes.Clone(p), zip...),
		"png text chunks":   tagged,
		"jpeg + html":       append(encodeJPEG(t, m), "<html><script>alert(1)</script>"...),
		"jpeg with comment": insertAfterSOI(encodeJPEG(t, m), jpegSegment(0xFE, "<script>alert(1)</script>GPSMARKER")),
		"jpeg with xmp":     insertAfterSOI(encodeJPEG(t, m), jpegSegment(0xE1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>GPSMARKER</x:xmpmeta>")),
		"jpeg with iptc":    insertAfterSOI(encodeJPEG(t, m), jpegSegment(0xED, "Photoshop 3.0\x00GPSMARKER")),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := s.Save(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			got := stored(t, s, a)
			for _, bad := range []string{"alert", "<html", "PK\x03\x04", "GPSMARKER", "xmpmeta"} {
				if bytes.Contains(got, []byte(bad)) {
					t.Fatalf("stored file still holds %q", bad)
				}
			}
			if a.Size != int64(len(got)) || len(got) >= len(data) {
				t.Fatalf("size %d, stored %d, uploaded %d", a.Size, len(got), len(data))
			}
		})
	}

	// A GIF/JS polyglot: script in a comment extension, in an application
	// extension and after the trailer. Frames, timing and looping stay.
	var g bytes.Buffer
	pal := color.Palette{color.Black, color.White}
	frame := func(c uint8) *image.Paletted {
		f := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
		f.Pix[0] = c
		return f
	}
	if err := gif.EncodeAll(&g, &gif.GIF{Image: []*image.Paletted{frame(0), frame(1)}, Delay: []int{10, 20}, LoopCount: 0}); err != nil {
		t.Fatal(err)
	}
	gb := g.Bytes()
	body := gb[:len(gb)-1] // without the trailer
	comment := append([]byte{0x21, 0xFE, 20}, "*/alert(1)/*GPSMARKE"...)
	comment = append(comment, 0)
	xmp := append([]byte{0x21, 0xFF, 11}, "XMP DataXMP"...)
	xmp = append(append(xmp, 9), "GPSMARKER"...)
	xmp = append(xmp, 0)
	poly := append(append(append(append([]byte{}, body...), comment...), xmp...), "\x3b*/=alert(document.domain)//"...)
	a, err := s.Save(bytes.NewReader(poly))
	if err != nil {
		t.Fatal(err)
	}
	got := stored(t, s, a)
	if bytes.Contains(got, []byte("alert")) || bytes.Contains(got, []byte("GPSMARKER")) || got[len(got)-1] != 0x3b {
		t.Fatalf("gif polyglot kept its script: %q", got)
	}
	dec, err := gif.DecodeAll(bytes.NewReader(got))
	if err != nil || len(dec.Image) != 2 || dec.Delay[1] != 20 || dec.LoopCount != 0 {
		t.Fatalf("cleaned gif: %v %+v", err, dec)
	}
}

func TestJPEGLosesGPSKeepsPixelsAndOrientation(t *testing.T) {
	s := newStore(t)
	clean := encodeJPEG(t, testImage(32, 24))
	for _, orientation := range []uint16{1, 6} {
		data := insertAfterSOI(clean, gpsExif(orientation))
		if readOrientation(gpsExif(orientation)[4:]) != int(orientation) {
			t.Fatal("the test's EXIF is not what readOrientation reads")
		}
		a, err := s.Save(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got := stored(t, s, a)
		if bytes.Contains(got, []byte("GPSMARKER")) || bytes.Contains(got, []byte{0x88, 0x25}) {
			t.Fatalf("orientation %d: the GPS block survived", orientation)
		}
		// The orientation survives alone, so a phone photo is not turned
		// on its side; without one, no EXIF at all.
		var kept int
		if i := bytes.Index(got, []byte("Exif\x00\x00")); i >= 0 {
			kept = readOrientation(got[i:])
		}
		if want := map[uint16]int{1: 0, 6: 6}[orientation]; kept != want {
			t.Fatalf("orientation %d stored as %d", orientation, kept)
		}
		// Not re-encoded: the same pixels as the upload.
		before, _ := jpeg.Decode(bytes.NewReader(data))
		after, err := jpeg.Decode(bytes.NewReader(got))
		if err != nil || !bytes.Equal(before.(*image.YCbCr).Y, after.(*image.YCbCr).Y) {
			t.Fatalf("pixels changed: %v", err)
		}
	}
}

// Modernizr's 1×1 test images: a WebP with alpha (VP8X, ALPH, VP8) and an
// animated one.
const (
	webpAlpha    = "UklGRkoAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAwAAAARBxAR/Q9ERP8DAABWUDggGAAAABQBAJ0BKgEAAQAAAP4AAA3AAP7mtQAAAA=="
	webpAnimated = "UklGRlIAAABXRUJQVlA4WAoAAAASAAAAAAAAAAAAQU5JTQYAAAD/////AABBTk1GJgAAAAAAAAAAAAAAAAAAAGQAAABWUDhMDQAAAC8AAAAQBxAREYiI/gcA"
)

func TestWebPLosesEXIF(t *testing.T) {
	s := newStore(t)
	w, _ := base64.StdEncoding.DecodeString(webpAlpha)
	exif := append([]byte("EXIF"), binary.LittleEndian.AppendUint32(nil, 10)...)
	exif = append(exif, "GPSMARKER!"...)
	data := append(bytes.Clone(w), exif...)
	data[20] |= 0x08 // VP8X: has EXIF
	binary.LittleEndian.PutUint32(data[4:], uint32(len(data)-8))
	data = append(data, "<html>tail</html>"...)
	a, err := s.Save(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got := stored(t, s, a)
	if bytes.Contains(got, []byte("GPSMARKER")) || bytes.Contains(got, []byte("html")) || got[20]&0x08 != 0 || !bytes.Equal(got, w) {
		t.Fatalf("cleaned webp %q, want the original %q", got, w)
	}
	anim, _ := base64.StdEncoding.DecodeString(webpAnimated)
	if _, err := s.Save(bytes.NewReader(anim)); apperr.From(err).Code != apperr.UnsupportedMedia || !strings.Contains(err.Error(), "animated") {
		t.Fatalf("animated webp: %v", err)
	}
}

// FuzzCleanImage: whatever the bytes, the cleaners return an error or a
// file that decodes; they never panic.
func FuzzCleanImage(f *testing.F) {
	f.Add("image/png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"))
	f.Add("image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b"))
	f.Add("image/jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0, 0xFF, 0xDA, 0x00, 0x02, 0x01, 0xFF, 0xD9})
	w, _ := base64.StdEncoding.DecodeString(webpAlpha)
	f.Add("image/webp", w)
	slots := make(chan struct{}, 1)
	f.Fuzz(func(t *testing.T, ct string, b []byte) {
		if formatName[ct] == "" {
			return
		}
		out, err := cleanImage(ct, b, ImageLimits{MaxSide: 256, MaxPixels: 10_000}, slots)
		if err != nil {
			if st := apperr.Status(apperr.From(err).Code); st != 413 && st != 415 {
				t.Fatalf("status %d: %v", st, err)
			}
			return
		}
		if err := decodeAll(ct, out); err != nil {
			t.Fatalf("cleaned %s does not decode: %v", ct, err)
		}
	})
}
