package prompts

import (
	"embed"
	"sync"
)

// embedded holds the prompt set built into the binary.
//
//go:embed audio/catalog.tsv audio/*.mp3
var embedded embed.FS

// embeddedCatalog decodes the embedded set once per process; the catalog is
// immutable, so every caller can share it.
var embeddedCatalog = sync.OnceValues(func() (*Catalog, error) {
	return Load(embedded, "audio")
})

// Embedded returns the prompt set built into the binary, decoded on the first
// call and shared after it.
func Embedded() (*Catalog, error) {
	return embeddedCatalog()
}
