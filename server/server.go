package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/sip"
)

// FlowFactory makes the dialog flow for a new call.
type FlowFactory func(info CallInfo) Flow

// Server is `ivr serve`: SIP in, a flow per call, HTTP for health.
type Server struct {
	cfg     Config
	log     *slog.Logger
	sip     *sip.Server
	ports   *media.PortAllocator
	prompts *prompts.Catalog
	flows   FlowFactory
	rec     asr.Recognizer
	recCfg  asr.StreamConfig
	http    *http.Server
	httpLn  net.Listener
	web     http.Handler // more HTTP routes (the agent pages), under /
	metrics http.Handler // GET /metrics (WithMetrics)
	obs     Observer
	live    liveCalls
	saveRec RecordingSaver

	active   atomic.Int64
	draining atomic.Bool
	ready    atomic.Bool
	idle     chan struct{} // the last call of a draining server ended
	ending   chan struct{} // closed when the drain time is over
	stopNow  chan struct{} // closed by StopNow
	stopOnce sync.Once

	sipUsers sip.DigestUsers // softphone users (WithSIPUsers); nil: trunks only
}

// Option configures a Server.
type Option func(*Server)

// WithFlow sets the dialog flow run for each call (the DTMF menu by default).
func WithFlow(f FlowFactory) Option { return func(s *Server) { s.flows = f } }

// WithHTTPHandler serves h on the HTTP address beside /healthz (h gets
// every path but /healthz): the live-agent bridge's pages and WebSocket.
func WithHTTPHandler(h http.Handler) Option { return func(s *Server) { s.web = h } }

// WithPrompts uses cat instead of loading the prompts itself, so that the
// flows and the server share one catalog.
func WithPrompts(cat *prompts.Catalog) Option { return func(s *Server) { s.prompts = cat } }

// New checks cfg, loads the prompts and binds every listener, so a
// configuration or start-up problem is reported before any call is taken.
func New(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Log, obs: nopObserver{}, idle: make(chan struct{}, 1), ending: make(chan struct{}),
		stopNow: make(chan struct{})}
	s.flows = func(CallInfo) Flow { return &Menu{NoInput: cfg.NoInputTimeout} }
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if cfg.RecordCalls {
		if err := checkRecordingsDir(cfg.recordingsDir()); err != nil {
			return nil, err
		}
	}
	var err error
	if s.prompts == nil {
		if s.prompts, err = LoadPrompts(cfg, s.log); err != nil {
			return nil, err
		}
	}
	if _, err := s.prompts.Clips(PromptShutdown); err != nil {
		return nil, fmt.Errorf("prompts: the shutdown goodbye: %w", err)
	}
	if s.ports, err = media.NewPortAllocator(cfg.rtpBindAddr(), cfg.RTPLow, cfg.RTPHigh); err != nil {
		return nil, fmt.Errorf("rtp ports: %w", err)
	}
	sipCfg, err := cfg.sipConfig(s.log)
	if err != nil {
		return nil, err
	}
	s.sip, err = sip.NewServer(s.sipSecurity(sipCfg), s)
	if err != nil {
		return nil, err
	}
	if err := s.sip.Listen(); err != nil {
		return nil, err
	}
	if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http listen %s: %w", cfg.HTTPAddr, err)
	}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// LoadPrompts loads the prompt set cfg names: the PromptsDir override or
// the embedded set. A missing or corrupt prompt is an error naming it.
func LoadPrompts(cfg Config, log *slog.Logger) (*prompts.Catalog, error) {
	start := time.Now()
	var cat *prompts.Catalog
	var err error
	if cfg.PromptsDir != "" {
		cat, err = prompts.LoadDir(cfg.PromptsDir)
	} else {
		cat, err = prompts.Embedded()
	}
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	log.Info("prompts loaded", "count", len(cat.Names()), "took", time.Since(start).Round(time.Millisecond))
	return cat, nil
}

// SIPAddr is the bound SIP address (UDP and TCP).
func (s *Server) SIPAddr() net.Addr { return s.sip.Addr() }

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() net.Addr { return s.httpLn.Addr() }

// ActiveCalls is the number of calls in progress.
func (s *Server) ActiveCalls() int { return int(s.active.Load()) }

// Run serves until ctx is cancelled, then shuts down gracefully: new calls
// get 503 and /healthz says draining, calls in progress go on for
// Config.DrainTime, those still up then hear a goodbye and are hung up
// (StopNow skips the rest), and Run returns once every call has ended.
func (s *Server) Run(ctx context.Context) error {
	sipCtx, stopSIP := context.WithCancel(context.Background())
	defer stopSIP()
	sipDone := make(chan error, 1)
	go func() { sipDone <- s.sip.Serve(sipCtx) }()
	httpDone := make(chan error, 1)
	go func() { httpDone <- s.http.Serve(s.httpLn) }()
	select {
	case <-s.sip.Ready():
	case err := <-sipDone:
		return err
	}
	s.ready.Store(true)
	s.log.Info("ivr ready", "sip", s.SIPAddr().String(), "http", s.HTTPAddr().String(), "speech", s.rec != nil,
		"public", s.cfg.PublicAddr, "rtp", fmt.Sprintf("%d-%d", s.cfg.RTPLow, s.cfg.RTPHigh))

	var err error
	select {
	case <-ctx.Done():
	case err = <-sipDone:
		sipDone <- err
	case err = <-httpDone:
		err = fmt.Errorf("http: %w", err)
	}
	if err == nil {
		s.drain()
	}
	s.draining.Store(true)
	s.ready.Store(false)
	stopSIP()
	if serr := <-sipDone; serr != nil && err == nil {
		err = serr
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.http.Shutdown(shutCtx)
	s.log.Info("ivr stopped")
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			http.Error(w, fmt.Sprintf("draining %d calls", s.active.Load()), http.StatusServiceUnavailable)
			return
		}
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "ok %d calls\n", s.active.Load())
	})
	if s.metrics != nil {
		mux.Handle("GET /metrics", s.metrics)
	}
	if s.web != nil {
		mux.Handle("/", s.web)
	}
	return mux
}

// HandleCall implements sip.Handler: admission, then the call's life.
func (s *Server) HandleCall(ic *sip.InboundCall) {
	arrived := time.Now()
	// Count the call in before looking at draining: drain reads the count
	// after setting draining, so either it waits for this call or the call
	// sees draining and is refused.
	n := s.active.Add(1)
	defer s.callDone()
	if s.draining.Load() {
		s.reject(ic, sip.ErrShuttingDown, arrived)
		return
	}
	if n > int64(s.cfg.MaxCalls) {
		s.reject(ic, sip.ErrCallLimit, arrived)
		return
	}
	c, err := s.newCall(ic)
	if err != nil {
		if errors.Is(err, media.ErrPortsExhausted) {
			err = fmt.Errorf("%w: %v", sip.ErrCapacity, err)
		}
		ic.Log().Warn("call not taken", "error", err)
		s.reject(ic, err, arrived)
		return
	}
	c.run(arrived)
}
