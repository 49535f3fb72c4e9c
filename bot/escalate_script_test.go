package bot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadScripts(t *testing.T) {
	const header = "call\tlabel\tturn\tkind\tpayload\tflags\n"
	tests := []struct {
		name, tsv string
		calls     int
	}{
		{"good", header + "a\tcalm\t1\tkeys\t2468#\t-\na\tcalm\t2\tspeech\tx.wav\t-\nb\tfrustrated\t1\tspeech\ty.wav\tfrustrated,barge\n", 2},
		{"bad header", "call label turn\n", 0},
		{"no calls", header, 0},
		{"fields", header + "a\tcalm\t1\tkeys\n", 0},
		{"label", header + "a\tangry\t1\tkeys\t1\t-\n", 0},
		{"turn", header + "a\tcalm\tone\tkeys\t1\t-\n", 0},
		{"kind", header + "a\tcalm\t1\tshout\t1\t-\n", 0},
		{"flag", header + "a\tcalm\t1\tkeys\t1\tloud\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "calls.tsv"), []byte(tt.tsv), 0o644); err != nil {
				t.Fatal(err)
			}
			calls, err := ReadScripts(dir)
			if tt.calls == 0 {
				if !errors.Is(err, ErrScript) {
					t.Errorf("err %v, want ErrScript", err)
				}
				return
			}
			if err != nil || len(calls) != tt.calls || len(calls[0].Turns) != 2 || !calls[1].Turns[0].Barge ||
				!calls[1].Turns[0].Frustrated || firstFrustrated(calls[1]) != 1 {
				t.Errorf("%+v, %v", calls, err)
			}
			// A clip that is not there fails the run before any call.
			if _, err := Eval(context.Background(), dir, EvalConfig{}); !errors.Is(err, ErrScript) {
				t.Errorf("Eval with missing clips: %v", err)
			}
		})
	}
	if _, err := ReadScripts(t.TempDir()); !errors.Is(err, ErrScript) {
		t.Errorf("no calls.tsv: %v", err)
	}
}
