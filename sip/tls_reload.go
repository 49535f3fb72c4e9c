package sip

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloadEvery is how often the certificate files are checked for a
// change (at most once per period, on a handshake).
const certReloadEvery = 10 * time.Second

// certReloader serves the listener's certificate and reloads it when the
// certificate or key file changes (a renewal such as certbot's), so that
// new connections get the new certificate without a restart. A renewal
// that cannot be loaded (a half-written file, a mismatched key) keeps the
// old certificate and is logged; it is tried again at the next check.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // the files' sizes and modification times when cert was loaded
	checked time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.load(r.fileStamp()); err != nil {
		return nil, err
	}
	r.checked = time.Now()
	return r, nil
}

// fileStamp summarises the two files' sizes and modification times.
func (r *certReloader) fileStamp() string {
	var s string
	for _, f := range []string{r.certFile, r.keyFile} {
		if st, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%d/%d;", st.Size(), st.ModTime().UnixNano())
		}
	}
	return s
}

func (r *certReloader) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("%w: certificate %s, key %s: %w", ErrTLSConfig, r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &cert, stamp
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) < certReloadEvery {
		return r.cert, nil
	}
	r.checked = time.Now()
	if stamp := r.fileStamp(); stamp != r.stamp {
		if err := r.load(stamp); err != nil {
			r.log.Warn("TLS certificate changed but cannot be loaded; keeping the old one", "error", err)
		} else {
			r.log.Info("TLS certificate reloaded", "cert", r.certFile)
		}
	}
	return r.cert, nil
}
