// Package prompts holds the bot's recorded prompts: the catalog that gives
// every prompt its name and text, the MP3 files, their decoding to 8 kHz
// line audio, speaking numbers, money and dates by joining snippets, and a
// Player that feeds clips to the RTP sender.
//
// audio/catalog.tsv is the single source of truth: scripts/gen-prompts.sh
// renders the MP3s from it and Load parses it, so every clip knows the text
// it speaks (for the call transcript).
package prompts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/supportline/ivr/media"
)

// CatalogFile is the name of the catalog inside a prompt directory.
const CatalogFile = "catalog.tsv"

// Clip is one decoded prompt. A Clip is shared by every call: its PCM must
// not be modified.
type Clip struct {
	// Name is the catalog name, also the file name without ".mp3".
	Name string
	// Text is what the clip says, for transcripts; non-speech clips have a
	// text in brackets, such as "[hold music]".
	Text string
	// PCM is the audio at media.SampleRate, mono.
	PCM []int16
	// Loop reports that the clip is made to repeat seamlessly (its end flows
	// into its start), as hold music is.
	Loop bool
}

// Duration returns the length of the clip's audio.
func (c *Clip) Duration() time.Duration {
	return time.Duration(len(c.PCM)) * time.Second / media.SampleRate
}

// Catalog is a set of decoded prompts. It is immutable once loaded and safe
// for concurrent use.
type Catalog struct {
	clips map[string]*Clip
	names []string
}

// entry is one line of catalog.tsv.
type entry struct {
	name, text string
	loop       bool
}

// Load reads dir/catalog.tsv from fsys and decodes dir/<name>.mp3 for each
// entry to 8 kHz mono, using all CPUs. A missing file wraps
// ErrMissingPrompt, an undecodable or empty one ErrBadPrompt; every failing
// file is reported, each error naming its file.
func Load(fsys fs.FS, dir string) (*Catalog, error) {
	cpath := path.Join(dir, CatalogFile)
	data, err := fs.ReadFile(fsys, cpath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCatalog, err)
	}
	entries, err := parseCatalog(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cpath, err)
	}
	clips := make([]*Clip, len(entries))
	errs := make([]error, len(entries))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(entries)) {
		wg.Go(func() {
			for i := range work {
				clips[i], errs[i] = loadClip(fsys, dir, entries[i])
			}
		})
	}
	for i := range entries {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Catalog{clips: make(map[string]*Clip, len(clips)), names: make([]string, len(clips))}
	for i, clip := range clips {
		c.clips[clip.Name] = clip
		c.names[i] = clip.Name
	}
	return c, nil
}

// LoadDir loads the prompts of a directory on disk, such as an operator's
// override of the embedded set; see Load.
func LoadDir(dir string) (*Catalog, error) {
	return Load(os.DirFS(dir), ".")
}

// loadClip reads and decodes the file of one catalog entry.
func loadClip(fsys fs.FS, dir string, e entry) (*Clip, error) {
	file := path.Join(dir, e.name+".mp3")
	data, err := fs.ReadFile(fsys, file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrMissingPrompt, file)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadPrompt, file, err)
	}
	pcm, err := decodeMP3(data, e.loop)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadPrompt, file, err)
	}
	return &Clip{Name: e.name, Text: e.text, PCM: pcm, Loop: e.loop}, nil
}

// parseCatalog parses catalog.tsv: name<TAB>text[<TAB>third column]. The
// third column is the synthesiser's input for speech, or flags ("loop") for a
// non-speech entry, whose text is in [brackets]. Blank lines and lines
// starting with # are skipped.
func parseCatalog(data []byte) ([]entry, error) {
	var entries []entry
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 || len(f) > 3 || !validName(f[0]) || strings.TrimSpace(f[1]) == "" {
			return nil, fmt.Errorf("%w: line %d: want name<TAB>text, got %q", ErrBadCatalog, n, line)
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("%w: line %d: %s listed twice", ErrBadCatalog, n, f[0])
		}
		seen[f[0]] = true
		e := entry{name: f[0], text: f[1]}
		if len(f) == 3 && strings.HasPrefix(e.text, "[") {
			e.loop = strings.Contains(f[2], "loop")
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCatalog, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: no entries", ErrBadCatalog)
	}
	return entries, nil
}

// validName reports whether s is a prompt name: lower-case letters, digits
// and underscores, usable as a file name everywhere.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// Get returns the clip called name, or an error wrapping ErrUnknownPrompt.
func (c *Catalog) Get(name string) (*Clip, error) {
	if clip, ok := c.clips[name]; ok {
		return clip, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownPrompt, name)
}

// Clips returns the clips called names, in order, as a Player takes them.
func (c *Catalog) Clips(names ...string) ([]*Clip, error) {
	out := make([]*Clip, len(names))
	for i, n := range names {
		clip, err := c.Get(n)
		if err != nil {
			return nil, err
		}
		out[i] = clip
	}
	return out, nil
}

// Names returns every prompt name in catalog order.
func (c *Catalog) Names() []string {
	return append([]string(nil), c.names...)
}

// Text returns what the clips called names say, joined by spaces, for the
// transcript ("Your balance is three hundred twenty one dollars"). A name
// not in the catalog appears as <name>.
func (c *Catalog) Text(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		if clip, ok := c.clips[n]; ok {
			b.WriteString(clip.Text)
		} else {
			b.WriteString("<" + n + ">")
		}
	}
	return b.String()
}
