package bridge

import (
	"testing"
	"time"
)

func TestTURNCredentials(t *testing.T) {
	for _, tc := range []struct {
		secret, user   string
		expires        time.Time
		wantUser, want string
	}{
		// Vector from: echo -n "1700000000:alice" | openssl dgst -sha1 -hmac north-wind -binary | base64
		{"north-wind", "alice", time.Unix(1700000000, 0), "1700000000:alice", "Oko4dt8u/EbTRjRUJWQDFm/zTCc="},
	} {
		u, p := TURNCredentials(tc.secret, tc.user, tc.expires)
		if u != tc.wantUser || p != tc.want {
			t.Errorf("TURNCredentials(%q, %q) = %q, %q; want %q, %q", tc.secret, tc.user, u, p, tc.wantUser, tc.want)
		}
	}
	_, p1 := TURNCredentials("s", "bob", time.Unix(1, 0))
	_, p2 := TURNCredentials("t", "bob", time.Unix(1, 0))
	if p1 == p2 {
		t.Error("the password does not depend on the secret")
	}
}
