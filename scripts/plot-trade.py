#!/usr/bin/env python3
"""Draws scripts/asr-trade.sh's table as an SVG: intent accuracy (y) against
false accepts (x), one line per corpus and model, points labelled with the
acoustic-gap limit. Standard library only."""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
W, H, L, T, R, B = 780, 500, 70, 44, 190, 60
x0, x1, y0, y1 = 0.0, 0.5, 0.60, 1.0
def X(v): return L + (v - x0) / (x1 - x0) * (W - L - R)
def Y(v): return T + (y1 - v) / (y1 - y0) * (H - T - B)
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="15" font-weight="bold">Intent accuracy vs false accepts, without and with the phone-channel MLLR</text>',
       f'<text x="{L}" y="38" fill="#555">held-out espeak corpora; points: acoustic-gap limit (off, 60, 50, 40); target: top left (97 %, 5 %)</text>']
for i in range(11):
    v = x0 + i * (x1 - x0) / 10
    out.append(f'<line x1="{X(v):.1f}" y1="{T}" x2="{X(v):.1f}" y2="{H-B}" stroke="#eee"/><text x="{X(v):.1f}" y="{H-B+16}" text-anchor="middle">{v*100:.0f}%</text>')
for i in range(9):
    v = y0 + i * (y1 - y0) / 8
    out.append(f'<line x1="{L}" y1="{Y(v):.1f}" x2="{W-R}" y2="{Y(v):.1f}" stroke="#eee"/><text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v*100:.0f}%</text>')
out.append(f'<text x="{(L+W-R)/2}" y="{H-18}" text-anchor="middle">false accepts (out-of-grammar clips given an intent)</text>')
out.append(f'<text x="18" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 18 {(T+H-B)/2})">intent accuracy</text>')
out.append(f'<rect x="{X(0):.1f}" y="{Y(1.0):.1f}" width="{X(0.05)-X(0):.1f}" height="{Y(0.97)-Y(1.0):.1f}" fill="#2a2" opacity="0.25"/>')
colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e']
corpora = sorted({r['corpus'] for r in rows})
ly = T + 10
for ci, c in enumerate(corpora):
    for model, dash, name in (('none', '5,4', 'no MLLR'), ('embedded', '', 'MLLR')):
        pts = [r for r in rows if r['corpus'] == c and r['model'] == model]
        if not pts:
            continue
        col = colors[ci % len(colors)]
        path = ' '.join(f'{X(float(r["false_accept_rate"])):.1f},{Y(float(r["intent_accuracy"])):.1f}' for r in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{col}" stroke-width="2" stroke-dasharray="{dash}"/>')
        for r in pts:
            px, py = X(float(r['false_accept_rate'])), Y(float(r['intent_accuracy']))
            fill = col if model == 'embedded' else 'white'
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{fill}" stroke="{col}" stroke-width="2"/>')
            label = 'off' if float(r['gap']) < 0 else r['gap']
            out.append(f'<text x="{px+6:.1f}" y="{py-6:.1f}" font-size="10" fill="{col}">{label}</text>')
        out.append(f'<line x1="{W-R+14}" y1="{ly}" x2="{W-R+44}" y2="{ly}" stroke="{col}" stroke-width="2" stroke-dasharray="{dash}"/>'
                   f'<text x="{W-R+50}" y="{ly+4}">{c}, {name}</text>')
        ly += 20
out.append('</svg>')
open(sys.argv[2], 'w').write('\n'.join(out) + '\n')
