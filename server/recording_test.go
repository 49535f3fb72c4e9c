package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRecordingPath(t *testing.T) {
	at := time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC)
	tests := []struct{ id, want string }{
		{"a84b4c76e66710", "/r/2026-11-29/a84b4c76e66710.wav"},
		{"f951fd03-1fc4-4590-a697-2231e989cb49", "/r/2026-11-29/f951fd03-1fc4-4590-a697-2231e989cb49.wav"},
		{"a84b4c76e66710@pc33.example.com", "/r/2026-11-29/a84b4c76e66710_pc33.example.com-"},
		{"../../etc/passwd", "/r/2026-11-29/_._.._etc_passwd-"},
		{".hidden", "/r/2026-11-29/_hidden-"},
		{"", "/r/2026-11-29/-"},
		{strings.Repeat("x", 300), "/r/2026-11-29/" + strings.Repeat("x", 80) + "-"},
	}
	for _, tc := range tests {
		got := recordingPath("/r", at, tc.id)
		if !strings.HasPrefix(got, tc.want) || filepath.Dir(got) != "/r/2026-11-29" || !strings.HasSuffix(got, ".wav") {
			t.Errorf("recordingPath(%q) = %q, want %q…", tc.id, got, tc.want)
		}
	}
	if recordingPath("/r", at, "a@b") == recordingPath("/r", at, "a_b") {
		t.Error("two Call-IDs share a file name")
	}
}

// TestRecordingsDirUnwritable: --record-calls with a recordings dir that
// cannot be made fails at start-up with the directory named.
func TestRecordingsDirUnwritable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "recordings"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.DataDir, cfg.RecordCalls = dir, true
	cfg.SIPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "recordings dir") {
		t.Fatalf("New: %v, want a recordings dir error", err)
	}
	if err := checkRecordingsDir(filepath.Join(dir, "ok")); err != nil {
		t.Errorf("a writable dir: %v", err)
	}
}
