// Package web is Plaza's web app: the community client and admin console
// (TypeScript and Preact in src/, built by Vite), and this file, which
// embeds the build (dist/, committed so that building Plaza needs no
// Node.js) into the binary. internal/httpapi serves it at /.
//
// Rebuild after changing src/: `npm ci && npm run build` in this folder.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built app: index.html at its root, hashed files under
// assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: cannot happen
	}
	return sub
}
