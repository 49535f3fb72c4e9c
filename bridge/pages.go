package bridge

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
)

//go:embed web/agent.html web/supervisor.html web/app.css web/agent.js web/supervisor.js
var pagesFS embed.FS

// Handler serves the agent pages, the agents' WebSocket and the sign-in
// routes: / (softphone), /supervisor, /api/supervisor, /ws, /static/,
// /login and /logout. Pages need a signed-in agent.
func (b *Bridge) Handler() http.Handler {
	mux := http.NewServeMux()
	b.cfg.Auth.Register(mux)
	static, _ := fs.Sub(pagesFS, "web")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.Handle("GET /{$}", b.cfg.Auth.RequireAgent(page("web/agent.html")))
	mux.Handle("GET /supervisor", b.cfg.Auth.RequireAgent(page("web/supervisor.html")))
	mux.Handle("GET /api/supervisor", b.cfg.Auth.RequireAgent(http.HandlerFunc(b.serveSupervisor)))
	mux.HandleFunc("GET /ws", b.serveWS)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return securityHeaders(mux)
}

// page serves one embedded HTML page.
func page(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := pagesFS.ReadFile(name)
		if err != nil {
			http.Error(w, "page missing", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(data)
	})
}

func (b *Bridge) serveSupervisor(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(b.Supervisor())
}

// securityHeaders keeps the pages out of frames and off other origins'
// scripts.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; media-src 'self' blob: mediastream:")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}
