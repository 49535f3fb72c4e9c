package bridge

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the TURN REST scheme and coturn use
	"encoding/base64"
	"strconv"
	"time"
)

// TURNCredentials returns a TURN username and password that expire at
// expires, for coturn's use-auth-secret mode (the "TURN REST API",
// draft-uberti-behave-turn-rest-00 §2.2): the username is
// "<expiry in Unix seconds>:<user>" and the password
// base64(HMAC-SHA1(secret, username)). coturn checks both with its
// static-auth-secret, so no credential is stored per agent and a leaked
// one stops working at expiry. Give a signed-in agent's page, and the leg,
// fresh ones per call or session.
func TURNCredentials(secret, user string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
