#!/usr/bin/env python3
"""Draws the end-of-speech -> result latency of `ivr asr load --json` runs as
cumulative distributions on a log time axis, one line per run, with the
150 ms target. Standard library only.

usage: plot-load.py OUT.svg LABEL=RUN.json [LABEL=RUN.json ...]
"""
import json
import math
import sys

if len(sys.argv) < 3 or any('=' not in a for a in sys.argv[2:]):
    sys.exit(__doc__)
runs = []
for arg in sys.argv[2:]:
    label, path = arg.split('=', 1)
    rep = json.load(open(path))
    lat = sorted(rep.get('latencies_ms') or [])
    if not lat:
        sys.exit(f'{path}: no latencies_ms (run ivr asr load --json)')
    runs.append((label, rep, lat))

W, H, L, T, R, B = 880, 480, 76, 60, 280, 60
x0, x1 = 0.0, math.log10(3000)  # 1 ms .. 3 s


def X(ms):
    return L + (math.log10(max(1.0, ms)) - x0) / (x1 - x0) * (W - L - R)


def Y(frac):
    return T + (1 - frac) * (H - T - B)


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="15" font-weight="bold">End of speech to recognition result, 50 calls on 2 cores</text>',
       f'<text x="{L}" y="40" fill="#555">ivr asr load --streams 50 --duration 20s testdata/corpus-ci; one run per line, with the CPU it used</text>']
for ms in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000):
    out.append(f'<line x1="{X(ms):.1f}" y1="{T}" x2="{X(ms):.1f}" y2="{H-B}" stroke="#eee"/>'
               f'<text x="{X(ms):.1f}" y="{H-B+16}" text-anchor="middle">{ms if ms < 1000 else str(ms // 1000) + " s"}</text>')
for i in range(11):
    v = i / 10
    out.append(f'<line x1="{L}" y1="{Y(v):.1f}" x2="{W-R}" y2="{Y(v):.1f}" stroke="#eee"/>'
               f'<text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v*100:.0f}%</text>')
out.append(f'<line x1="{X(150):.1f}" y1="{T}" x2="{X(150):.1f}" y2="{H-B}" stroke="#2a2" stroke-width="2" stroke-dasharray="6,3"/>'
           f'<text x="{X(150)+4:.1f}" y="{H-B-8}" fill="#2a2">150 ms target (p95)</text>')
out.append(f'<line x1="{L}" y1="{Y(0.95):.1f}" x2="{W-R}" y2="{Y(0.95):.1f}" stroke="#2a2" stroke-dasharray="2,3"/>')
out.append(f'<text x="{(L+W-R)/2}" y="{H-18}" text-anchor="middle">milliseconds after the end-of-speech silence (log scale)</text>')
out.append(f'<text x="16" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 16 {(T+H-B)/2})">utterances with their result by then</text>')
colors = ['#d62728', '#1f77b4', '#ff7f0e', '#9467bd', '#8c564b', '#2ca02c']
ly = T + 10
for i, (label, rep, lat) in enumerate(runs):
    c = colors[i % len(colors)]
    n = len(lat)
    pts = ' '.join(f'{X(v):.1f},{Y((k + 1) / n):.1f}' for k, v in enumerate(lat))
    out.append(f'<polyline points="{X(lat[0]):.1f},{Y(0):.1f} {pts}" fill="none" stroke="{c}" stroke-width="2"/>')
    out.append(f'<line x1="{W-R+14}" y1="{ly}" x2="{W-R+38}" y2="{ly}" stroke="{c}" stroke-width="2"/>'
               f'<text x="{W-R+44}" y="{ly+4}">{label}</text>')
    out.append(f'<text x="{W-R+44}" y="{ly+19}" fill="#555">p50 {rep["latency_p50_ms"]:.0f} / p95 {rep["latency_p95_ms"]:.0f} ms, '
               f'{rep["cpu_cores_used"]:.2f} cores</text>')
    ly += 42
out.append('</svg>')
open(sys.argv[1], 'w').write('\n'.join(out) + '\n')
