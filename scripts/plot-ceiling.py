#!/usr/bin/env python3
"""Draws scripts/asr-ceiling.sh's results as an SVG: intent accuracy (y)
against false accepts (x) for each corpus, one point per model (the default,
MLLR from espeak, MAP to espeak) joined in that order, and the target corner.

    plot-ceiling.py WORKDIR OUT.svg CORPUS_NAME...

reads WORKDIR/eval-CORPUS_NAME-{default,mllr,map}.json; a corpus with fewer than
20 in-grammar clips is left out. Standard library only."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgplot  # noqa: E402

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
y0, y1 = 0.80, 1.0
svg, X, Y = svgplot.frame((W, H), (L, T, R, B), (0.0, 0.35), (y0, y1),
                          'The en-us model adapted to the test voices: how far it gets',
                          'scripts/asr-ceiling.sh; each corpus: default, then MLLR and MAP adapted to espeak-ng; target: the green corner',
                          8, 5)


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
