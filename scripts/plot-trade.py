#!/usr/bin/env python3
"""Draws scripts/asr-trade.sh's table as an SVG: intent accuracy (y) against
false accepts (x), one line per corpus and model, points labelled with the
acoustic-gap limit. Standard library only."""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgplot  # noqa: E402

rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
W, H, L, T, R, B = 780, 500, 70, 44, 190, 60
out, X, Y = svgplot.frame((W, H), (L, T, R, B), (0.0, 0.5), (0.60, 1.0),
                          'Intent accuracy vs false accepts, without and with the phone-channel MLLR',
                          'held-out espeak corpora; points: acoustic-gap limit (off, 60, 50, 40); target: top left (97 %, 5 %)',
                          11, 9)
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
