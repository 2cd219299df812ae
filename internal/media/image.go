package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"

	"github.com/plazahq/plaza/internal/apperr"
)

// ImageLimits bound what an uploaded image may decode to. The byte limit
// alone does not: a 40 KiB PNG can declare 20000×20000 pixels (1.6 GB
// once decoded).
type ImageLimits struct {
	MaxSide   int   // pixels, width and height each; 0: 8192
	MaxPixels int64 // width × height, and for an animated GIF all frames together; 0: 40 million
}

func (l ImageLimits) withDefaults() ImageLimits {
	if l.MaxSide <= 0 {
		l.MaxSide = 8192
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = 40_000_000
	}
	return l
}

// cleanImage checks an uploaded image and returns the bytes to store.
//
// The dimensions are read from the header first, so a decompression bomb is
// refused before anything is decoded. The file is then rewritten without
// its metadata: EXIF (with the camera's GPS position), XMP, IPTC, comments,
// text chunks, and whatever follows the image's end marker (the tail of a
// PNG+HTML or PNG+ZIP polyglot). Pixels are not re-encoded: the image data
// segments are copied as they are, so nothing is lost to a second JPEG
// compression, colour profiles (ICC) and animation stay, WebP (for which Go
// has no encoder) is handled like the others, and a JPEG's orientation is
// kept in a minimal EXIF block of its own. Finally the rewritten file is
// decoded in full: what does not decode as the type it was sniffed as is
// refused.
func cleanImage(ct string, b []byte, lim ImageLimits, decodeSlots chan struct{}) ([]byte, error) {
	lim = lim.withDefaults()
	name := formatName[ct]
	cfg, err := decodeConfig(ct, b)
	if err != nil {
		return nil, notImage(name)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, notImage(name)
	}
	if cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide || int64(cfg.Width)*int64(cfg.Height) > lim.MaxPixels {
		return nil, apperr.New(apperr.TooLarge, fmt.Sprintf("the image is %d×%d pixels; images may be at most %d pixels a side and %d megapixels",
			cfg.Width, cfg.Height, lim.MaxSide, lim.MaxPixels/1_000_000))
	}
	var out []byte
	switch ct {
	case "image/png":
		out, err = cleanPNG(b)
	case "image/jpeg":
		out, err = cleanJPEG(b)
	case "image/gif":
		out, err = cleanGIF(b, lim)
	case "image/webp":
		out, err = cleanWebP(b)
	default:
		return nil, fmt.Errorf("media: no cleaner for %s", ct)
	}
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, notImage(name)
	}
	// A full decode takes up to several bytes per pixel: a few at a time.
	decodeSlots <- struct{}{}
	defer func() { <-decodeSlots }()
	if err := decodeAll(ct, out); err != nil {
		return nil, notImage(name)
	}
	return out, nil
}

var formatName = map[string]string{"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP"}

func notImage(name string) error {
	return apperr.New(apperr.UnsupportedMedia, "the file starts like a "+name+" image but is not a valid one")
}

func decodeConfig(ct string, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch ct {
	case "image/png":
		return png.DecodeConfig(r)
	case "image/jpeg":
		return jpeg.DecodeConfig(r)
	case "image/gif":
		return gif.DecodeConfig(r)
	case "image/webp":
		return webp.DecodeConfig(r)
	}
	return image.Config{}, errors.New("unknown image type")
}

func decodeAll(ct string, b []byte) error {
	r := bytes.NewReader(b)
	var err error
	switch ct {
	case "image/png":
		_, err = png.Decode(r)
	case "image/jpeg":
		_, err = jpeg.Decode(r)
	case "image/gif":
		_, err = gif.DecodeAll(r) // every frame, not just the first
	case "image/webp":
		_, err = webp.Decode(r)
	}
	return err
}

var errTruncated = errors.New("media: the image ends early")

// ---- PNG ----

// pngKeep are the chunks that change how a PNG looks: the critical ones,
// transparency, colour, pixel size and APNG animation. Text (tEXt, zTXt,
// iTXt: where XMP lives), eXIf, tIME and unknown chunks are dropped.
var pngKeep = map[string]bool{"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true, "tRNS": true, "cHRM": true, "gAMA": true,
	"iCCP": true, "sBIT": true, "sRGB": true, "cICP": true, "mDCv": true, "cLLi": true, "bKGD": true, "pHYs": true,
	"acTL": true, "fcTL": true, "fdAT": true}

func cleanPNG(b []byte) ([]byte, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		return nil, errTruncated
	}
	out := append(make([]byte, 0, len(b)), sig...)
	for p := len(sig); ; {
		if len(b)-p < 12 {
			return nil, errTruncated
		}
		n := int64(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if n > int64(len(b)-p-12) {
			return nil, errTruncated
		}
		end := p + 12 + int(n)
		if pngKeep[typ] {
			out = append(out, b[p:end]...)
		}
		p = end
		if typ == "IEND" {
			return out, nil // anything after IEND is not part of the image
		}
	}
}

// ---- JPEG ----

func cleanJPEG(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errTruncated
	}
	out := append(make([]byte, 0, len(b)), 0xFF, 0xD8)
	insertAt := len(out) // where the orientation block goes: after SOI and JFIF
	orientation := 0
	for p := 2; ; {
		if len(b)-p < 2 || b[p] != 0xFF {
			return nil, errTruncated
		}
		m := b[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0xD9: // EOI: anything after it is not part of the image
			out = append(out, 0xFF, 0xD9)
			if orientation > 1 {
				out = append(out[:insertAt], append(exifOrientation(orientation), out[insertAt:]...)...)
			}
			return out, nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // markers without a length
			out = append(out, b[p:p+2]...)
			p += 2
			continue
		}
		if len(b)-p < 4 {
			return nil, errTruncated
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		if n < 2 || n > len(b)-p-2 {
			return nil, errTruncated
		}
		seg, payload := b[p:p+2+n], b[p+4:p+2+n]
		p += 2 + n
		switch {
		case m == 0xE1: // APP1: EXIF or XMP. Only the orientation survives.
			if orientation == 0 {
				orientation = readOrientation(payload)
			}
			continue
		case m == 0xE0: // APP0: JFIF
			out = append(out, seg...)
			if insertAt == 2 {
				insertAt = len(out)
			}
			continue
		case m == 0xE2 && bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")), m == 0xEE: // colour profile; Adobe colour transform
		case m >= 0xE0 && m <= 0xEF, m == 0xFE: // other APPn (IPTC, Photoshop, maker notes...) and comments
			continue
		}
		out = append(out, seg...)
		if m == 0xDA { // SOS: entropy-coded data runs to the next marker
			start := p
			for p < len(b)-1 && !(b[p] == 0xFF && b[p+1] != 0x00 && (b[p+1] < 0xD0 || b[p+1] > 0xD7)) {
				p++
			}
			if p >= len(b)-1 {
				return nil, errTruncated
			}
			out = append(out, b[start:p]...)
		}
	}
}

// readOrientation returns the EXIF orientation (1-8) in an APP1 payload,
// or 0.
func readOrientation(app1 []byte) int {
	if !bytes.HasPrefix(app1, []byte("Exif\x00\x00")) {
		return 0
	}
	t := app1[6:]
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd > int64(len(t))-2 {
		return 0
	}
	count := int64(bo.Uint16(t[ifd:]))
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 0
		}
	}
	return 0
}

// exifOrientation is an APP1 segment that holds nothing but the
// orientation tag, so a phone photo still shows the right way up.
func exifOrientation(o int) []byte {
	return []byte{0xFF, 0xE1, 0x00, 34, 'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0x00, 0x2A, 0, 0, 0, 8, // TIFF header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, 1 value
		0, 0, 0, 0} // no next IFD
}

// ---- GIF ----

func cleanGIF(b []byte, lim ImageLimits) ([]byte, error) {
	if len(b) < 13 || !(bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))) {
		return nil, errTruncated
	}
	p := 13
	if b[10]&0x80 != 0 {
		p += 3 << (b[10]&7 + 1)
	}
	if p > len(b) {
		return nil, errTruncated
	}
	out := append(make([]byte, 0, len(b)), b[:p]...)
	var area int64
	for {
		if p >= len(b) {
			return nil, errTruncated
		}
		switch b[p] {
		case 0x3B: // trailer: anything after it is not part of the image
			return append(out, 0x3B), nil
		case 0x2C: // an image: descriptor, local colour table, LZW data
			if len(b)-p < 11 {
				return nil, errTruncated
			}
			w, h := int64(binary.LittleEndian.Uint16(b[p+5:])), int64(binary.LittleEndian.Uint16(b[p+7:]))
			if area += w * h; area > lim.MaxPixels {
				return nil, apperr.New(apperr.TooLarge, fmt.Sprintf("the animation's frames add up to more than %d megapixels", lim.MaxPixels/1_000_000))
			}
			end := p + 10
			if b[p+9]&0x80 != 0 {
				end += 3 << (b[p+9]&7 + 1)
			}
			end, err := skipSubBlocks(b, end+1) // +1: the LZW minimum code size
			if err != nil {
				return nil, err
			}
			out = append(out, b[p:end]...)
			p = end
		case 0x21: // an extension
			if len(b)-p < 3 {
				return nil, errTruncated
			}
			end, err := skipSubBlocks(b, p+2)
			if err != nil {
				return nil, err
			}
			label, first := b[p+1], b[p+3:min(end, p+3+int(b[p+2]))]
			// Graphic control (frame timing, transparency) and the loop
			// count stay; comments, plain text and other application
			// data (XMP) go.
			if label == 0xF9 || (label == 0xFF && (bytes.Equal(first, []byte("NETSCAPE2.0")) || bytes.Equal(first, []byte("ANIMEXTS1.0")))) {
				out = append(out, b[p:end]...)
			}
			p = end
		default:
			return nil, errTruncated
		}
	}
}

// skipSubBlocks returns the offset just past the data sub-blocks at p.
func skipSubBlocks(b []byte, p int) (int, error) {
	for {
		if p >= len(b) {
			return 0, errTruncated
		}
		n := int(b[p])
		p++
		if n == 0 {
			return p, nil
		}
		p += n
	}
}

// ---- WebP ----

func cleanWebP(b []byte) ([]byte, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return nil, errTruncated
	}
	size := int64(binary.LittleEndian.Uint32(b[4:]))
	if size < 4 || size > int64(len(b)-8) {
		return nil, errTruncated
	}
	riff := b[:8+size] // anything after the RIFF container is dropped
	out := append(make([]byte, 0, len(riff)), riff[:12]...)
	for p := 12; p < len(riff); {
		if len(riff)-p < 8 {
			return nil, errTruncated
		}
		fcc := string(riff[p : p+4])
		n := int64(binary.LittleEndian.Uint32(riff[p+4:]))
		if n > int64(len(riff)-p-8) {
			return nil, errTruncated
		}
		end := p + 8 + int(n) + int(n&1) // chunks are padded to an even size
		end = min(end, len(riff))
		switch fcc {
		case "VP8X":
			if n < 10 {
				return nil, errTruncated
			}
			if riff[p+8]&0x02 != 0 {
				return nil, apperr.New(apperr.UnsupportedMedia, "animated WebP images are not accepted; upload an animated GIF, or a still WebP")
			}
			chunk := append([]byte(nil), riff[p:end]...)
			chunk[8] &^= 0x04 | 0x08 // no XMP, no EXIF any more
			out = append(out, chunk...)
		case "VP8 ", "VP8L", "ALPH", "ICCP":
			out = append(out, riff[p:end]...)
		}
		// EXIF, XMP and unknown chunks are dropped.
		p = end
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}
