package sip

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzParseCrypto: any a=crypto value parses or fails with an error, never
// a panic; what parses round-trips through Crypto.String, and no error
// message repeats an inline key.
func FuzzParseCrypto(f *testing.F) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	for _, s := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key,
		"2 AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^31",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " WSH=64 KDR=1",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key,
		"x y z", "", "1", "1 AES_CM_128_HMAC_SHA1_80 inline:|", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^99",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseCrypto(v)
		if err != nil {
			if strings.Contains(err.Error(), key) {
				t.Errorf("error echoes the key: %v", err)
			}
			return
		}
		back, err := ParseCrypto(c.String())
		if err != nil || back.Tag != c.Tag || back.Suite != c.Suite || !bytes.Equal(back.Key, c.Key) {
			t.Errorf("%q → %q does not round-trip: %v", v, c.String(), err)
		}
	})
}
