package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/store"
)

// secretPIN is a PIN no other output would contain by chance.
const secretPIN = "97531864"

// runIVR runs `ivr ARGS...` with the accounts, agents and calls commands and returns
// what it printed on stdout and stderr.
func runIVR(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := &cli.App{
		Name:           "ivr",
		Commands:       []*cli.Command{accountsCommand(), agentsCommand(), callsCommand(), sipUsersCommand()},
		Reader:         strings.NewReader(stdin),
		Writer:         &out,
		ErrWriter:      &errOut,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	err := app.Run(append([]string{"ivr"}, args...))
	return out.String(), errOut.String(), err
}

// noSecrets fails when the PIN or a PIN hash appears in s.
func noSecrets(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{secretPIN, "$argon2", "pin_hash", "2468"} {
		if strings.Contains(s, bad) {
			t.Fatalf("output contains %q:\n%s", bad, s)
		}
	}
}

func TestAccountsCommands(t *testing.T) {
	dir := t.TempDir()
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(secretPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	add := []string{"accounts", "add", "--data-dir", dir, "--phone", "+15550100", "--phone", "+1 555 0199",
		"--account", "10001", "--balance", "321.09", "--next-amount", "54.10", "--next-due", "2026-12-05", "--card-last4", "4242"}
	with := func(base []string, more ...string) []string { return append(append([]string{}, base...), more...) }

	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantErr  string   // substring of the error; "" for success
		wantOut  []string // substrings of stdout
		checkOut func(t *testing.T, out string)
	}{
		{name: "add with --pin-file", args: with(add, "--pin-file", pinFile),
			wantOut: []string{"added account 10001", "USD 321.09", "USD 54.10 due 2026-12-05", "****4242", "+15550100, +15550199"}},
		{name: "add duplicate", args: with(add, "--pin", secretPIN), wantErr: "already exists"},
		{name: "add PIN on stdin, JSON", stdin: secretPIN + "\n",
			args: []string{"accounts", "add", "--data-dir", dir, "--account", "10003", "--pin-file", "-", "--balance", "980",
				"--next-amount", "122.50", "--next-due", "2027-01-15", "--card-last4", "0005", "--json"},
			checkOut: func(t *testing.T, out string) {
				var a store.Account
				if err := json.Unmarshal([]byte(out), &a); err != nil || a.Number != "10003" || a.Balance.Minor != 98000 || len(a.Phones) != 0 {
					t.Fatalf("JSON %q: %+v, %v", out, a, err)
				}
			}},
		{name: "add no PIN", args: []string{"accounts", "add", "--data-dir", dir, "--account", "10004", "--balance", "1", "--card-last4", "1234"},
			wantErr: "PIN is needed"},
		{name: "add both PINs", args: with(add, "--pin", secretPIN, "--pin-file", pinFile), wantErr: "not both"},
		{name: "add bad PIN", args: []string{"accounts", "add", "--data-dir", dir, "--account", "10004", "--pin", "12",
			"--balance", "1", "--card-last4", "1234"}, wantErr: "PIN: want 4 to 8 digits"},
		{name: "add bad amount", args: []string{"accounts", "add", "--data-dir", dir, "--account", "10004", "--pin", secretPIN,
			"--balance", "1.234", "--card-last4", "1234"}, wantErr: "--balance"},
		{name: "add bad date", args: []string{"accounts", "add", "--data-dir", dir, "--account", "10004", "--pin", secretPIN,
			"--balance", "10", "--next-amount", "5", "--next-due", "12/05/2026", "--card-last4", "1234"}, wantErr: "--next-due"},
		{name: "add bad card", args: []string{"accounts", "add", "--data-dir", dir, "--account", "10004", "--pin", secretPIN,
			"--balance", "10", "--card-last4", "42"}, wantErr: "card last four"},
		{name: "add bad phone", args: []string{"accounts", "add", "--data-dir", dir, "--account", "10004", "--pin", secretPIN,
			"--balance", "10", "--card-last4", "4242", "--phone", "5550100"}, wantErr: "E.164"},
		{name: "list", args: []string{"accounts", "list", "--data-dir", dir},
			wantOut: []string{"ACCOUNT", "10001", "+15550100,+15550199", "USD 321.09", "2026-12-05", "****4242", "10003", "USD 980.00", "open"}},
		{name: "list JSON", args: []string{"accounts", "list", "--data-dir", dir, "--json"},
			checkOut: func(t *testing.T, out string) {
				var as []store.Account
				if err := json.Unmarshal([]byte(out), &as); err != nil || len(as) != 2 || as[0].Number != "10001" {
					t.Fatalf("JSON %q: %+v, %v", out, as, err)
				}
			}},
		{name: "show", args: []string{"accounts", "show", "--data-dir", dir, "10001"},
			wantOut: []string{"account", "10001", "balance", "USD 321.09", "wrong PINs: 0"}},
		{name: "show JSON after the ID", args: []string{"accounts", "show", "10001", "--json", "--data-dir", dir},
			checkOut: func(t *testing.T, out string) {
				var d accountDetail
				if err := json.Unmarshal([]byte(out), &d); err != nil || d.Account.Number != "10001" || d.Payments == nil {
					t.Fatalf("JSON %q: %+v, %v", out, d, err)
				}
			}},
		{name: "show unknown", args: []string{"accounts", "show", "--data-dir", dir, "99999"}, wantErr: "not found"},
		{name: "show no number", args: []string{"accounts", "show", "--data-dir", dir}, wantErr: "want an account NUMBER"},
		{name: "show two numbers", args: []string{"accounts", "show", "--data-dir", dir, "10001", "10003"}, wantErr: "want one"},
		{name: "unlock", args: []string{"accounts", "unlock", "--data-dir", dir, "10001"}, wantOut: []string{"unlocked account 10001"}},
		{name: "unlock unknown", args: []string{"accounts", "unlock", "--data-dir", dir, "99999"}, wantErr: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runIVR(t, tt.stdin, tt.args...)
			noSecrets(t, out+errOut)
			if err != nil {
				noSecrets(t, err.Error())
			}
			checkRun(t, out, errOut, err, tt.wantErr, tt.wantOut, tt.checkOut)
		})
	}

	// The store behind the commands: the PIN from the file works, the hash is stored.
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.AccountByPhone(context.Background(), "+15550199")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := st.VerifyPIN(context.Background(), a.ID, secretPIN, time.Now(), 3, time.Minute); err != nil || !r.OK {
		t.Fatalf("PIN from --pin-file: %+v, %v", r, err)
	}
}

// TestAccountsShowLockedAndPayments: show reports the lock and payments, and
// unlock clears the lock.
func TestAccountsShowLockedAndPayments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir, store.WithPINHashCost(64, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := store.SeedDemo(ctx, st); err != nil {
		t.Fatal(err)
	}
	a, _ := st.AccountByNumber(ctx, "10001")
	p, err := st.MakePayment(ctx, store.PaymentRequest{AccountID: a.ID, Amount: store.Money{Minor: 5410, Currency: "USD"}, IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := st.VerifyPIN(ctx, a.ID, "0000", time.Now(), 3, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := runIVR(t, "", "accounts", "show", "--data-dir", dir, "10001")
	if err != nil || !strings.Contains(out, "locked until") || !strings.Contains(out, p.Confirmation) || !strings.Contains(out, "USD 266.99") {
		t.Fatalf("show = %v\n%s", err, out)
	}
	noSecrets(t, out)
	if out, _, _ = runIVR(t, "", "accounts", "list", "--data-dir", dir); !strings.Contains(out, "locked until") {
		t.Fatalf("list:\n%s", out)
	}
	if _, _, err := runIVR(t, "", "accounts", "unlock", "10001", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.AccountByNumber(ctx, "10001"); a.Locked(time.Now()) {
		t.Fatal("still locked after unlock (written by another handle while this one is open)")
	}
}

func TestDataDirFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IVR_DATA_DIR", dir)
	if _, _, err := runIVR(t, "", "accounts", "list"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		t.Fatalf("IVR_DATA_DIR not used: %v", err)
	}
}

// checkRun checks one `ivr` run of a table test: the wanted error (and then
// nothing else), or success with every wanted piece of stdout and checkOut's
// own checks.
func checkRun(t *testing.T, out, errOut string, err error, wantErr string, wantOut []string, checkOut func(*testing.T, string)) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v; want %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("err = %v\nstderr: %s", err, errOut)
	}
	for _, w := range wantOut {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	if checkOut != nil {
		checkOut(t, out)
	}
}
