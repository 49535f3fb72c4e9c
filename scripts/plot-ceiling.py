#!/usr/bin/env python3
"""Draws scripts/asr-ceiling.sh's results as an SVG: intent accuracy (y)
against false accepts (x) for each corpus, one point per model (the default,
MLLR from espeak, MAP to espeak) joined in that order, and the target corner.

    plot-ceiling.py WORKDIR OUT.svg CORPUS_NAME...

reads WORKDIR/eval-CORPUS_NAME-{default,mllr,map}.json; a corpus with fewer than
20 in-grammar clips is left out. Standard library only."""
import json
import sys

work, out_path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
models = [('default', 'default (real-speech MLLR)', 'circle'),
          ('mllr', 'MLLR from espeak', 'square'),
          ('map', 'MAP to espeak', 'diamond')]
points, kept = {}, []
for n in names:
    for m, _, _ in models:
        d = json.load(open(f'{work}/eval-{n}-{m}.json'))
        points[n, m] = (d['false_accept_rate'], d['intent_accuracy'])
    if d['n_in_grammar'] >= 20:  # too few answers (the real corpus has 4) give no accuracy to draw
        kept.append(n)
names = kept

W, H, L, T, R, B = 780, 480, 70, 50, 220, 60
x0, x1, y0, y1 = 0.0, 0.35, 0.80, 1.0
def X(v): return L + (v - x0) / (x1 - x0) * (W - L - R)
def Y(v): return T + (y1 - v) / (y1 - y0) * (H - T - B)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="15" font-weight="bold">The en-us model adapted to the test voices: how far it gets</text>',
       f'<text x="{L}" y="40" fill="#555">scripts/asr-ceiling.sh; each corpus: default, then MLLR and MAP adapted to espeak-ng; target: the green corner</text>']
for i in range(8):
    v = x0 + i * 0.05
    svg.append(f'<line x1="{X(v):.1f}" y1="{T}" x2="{X(v):.1f}" y2="{H-B}" stroke="#eee"/>'
               f'<text x="{X(v):.1f}" y="{H-B+16}" text-anchor="middle">{v*100:.0f}%</text>')
for i in range(5):
    v = y0 + i * 0.05
    svg.append(f'<line x1="{L}" y1="{Y(v):.1f}" x2="{W-R}" y2="{Y(v):.1f}" stroke="#eee"/>'
               f'<text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v*100:.0f}%</text>')
svg.append(f'<text x="{(L+W-R)/2}" y="{H-18}" text-anchor="middle">false accepts (out-of-grammar clips given an intent)</text>')
svg.append(f'<text x="18" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 18 {(T+H-B)/2})">intent accuracy</text>')
svg.append(f'<rect x="{X(0):.1f}" y="{Y(1.0):.1f}" width="{X(0.05)-X(0):.1f}" height="{Y(0.97)-Y(1.0):.1f}" fill="#2a2" opacity="0.3"/>')

def marker(shape, x, y, color):
    if shape == 'circle':
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{color}"/>'
    if shape == 'square':
        return f'<rect x="{x-4.5:.1f}" y="{y-4.5:.1f}" width="9" height="9" fill="{color}"/>'
    return f'<path d="M{x:.1f},{y-6:.1f} L{x+6:.1f},{y:.1f} L{x:.1f},{y+6:.1f} L{x-6:.1f},{y:.1f} Z" fill="{color}"/>'

colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']
ly = T + 10
for i, n in enumerate(names):
    c = colors[i % len(colors)]
    path = ' '.join(f'{X(points[n, m][0]):.1f},{Y(points[n, m][1]):.1f}' for m, _, _ in models)
    svg.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="1.5"/>')
    for m, _, shape in models:
        fa, acc = points[n, m]
        svg.append(marker(shape, X(fa), Y(min(max(acc, y0), y1)), c))
    svg.append(f'<line x1="{W-R+20}" y1="{ly}" x2="{W-R+44}" y2="{ly}" stroke="{c}" stroke-width="2"/>'
               f'<text x="{W-R+50}" y="{ly+4}">{n}</text>')
    ly += 18
ly += 10
for m, label, shape in models:
    svg.append(marker(shape, W - R + 32, ly, '#444') + f'<text x="{W-R+50}" y="{ly+4}">{label}</text>')
    ly += 18
svg.append('</svg>')
open(out_path, 'w').write('\n'.join(svg) + '\n')
