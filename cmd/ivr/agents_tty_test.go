//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/supportline/ivr/store"
)

// openPTY opens a pseudo-terminal pair: the master (the test's keyboard and
// screen) and the slave (the command's terminal).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// screen reads what the command wrote to its terminal.
type screen struct {
	master *os.File
	seen   bytes.Buffer
}

// waitFor reads the terminal until it shows s.
func (sc *screen) waitFor(t *testing.T, s string) {
	t.Helper()
	buf := make([]byte, 256)
	for !strings.Contains(sc.seen.String(), s) {
		n, err := sc.master.Read(buf)
		if err != nil {
			t.Fatalf("terminal read while waiting for %q: %v (seen %q)", s, err, sc.seen.String())
		}
		sc.seen.Write(buf[:n])
	}
}

// drain reads the rest of the output, until the terminal is closed.
func (sc *screen) drain() {
	buf := make([]byte, 256)
	for {
		n, err := sc.master.Read(buf)
		sc.seen.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

// waitNoEcho waits until the command has turned the terminal's echo off.
func waitNoEcho(t *testing.T, slave *os.File) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("echo never turned off")
		}
	}
}

// TestAgentsAddFromTerminal types the password twice at a real terminal: it
// is asked for, not echoed, and stored.
func TestAgentsAddFromTerminal(t *testing.T) {
	for _, tt := range []struct {
		name, first, second, wantErr string
	}{
		{"typed twice", secretPassword, secretPassword, ""},
		{"typed differently", secretPassword, secretPassword + "x", "the passwords differ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			master, slave := openPTY(t)
			var out bytes.Buffer
			app := &cli.App{Name: "ivr", Commands: []*cli.Command{agentsCommand()}, Reader: slave, Writer: &out,
				ErrWriter: slave, ExitErrHandler: func(*cli.Context, error) {}}
			done := make(chan error, 1)
			go func() { done <- app.Run([]string{"ivr", "agents", "add", "--data-dir", dir, "alice"}) }()

			sc := &screen{master: master}
			sc.waitFor(t, "Password for alice: ")
			waitNoEcho(t, slave)
			fmt.Fprint(master, tt.first+"\n")
			sc.waitFor(t, "Repeat the password: ")
			waitNoEcho(t, slave)
			fmt.Fprint(master, tt.second+"\n")
			err := <-done
			slave.Close()
			sc.drain()
			if strings.Contains(sc.seen.String(), secretPassword) {
				t.Fatalf("the terminal echoed the password: %q", sc.seen.String())
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), "added agent alice") {
				t.Fatalf("add: %v, %q", err, out.String())
			}
			st, err := store.Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.CheckAgentPassword(context.Background(), "alice", secretPassword); err != nil {
				t.Fatalf("typed password: %v", err)
			}
		})
	}
}
