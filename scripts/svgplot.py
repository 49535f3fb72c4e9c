"""The frame the plot scripts share (plot-trade.py, plot-ceiling.py): an SVG
with a title and subtitle, a grid with percent ticks, axis labels and the
target corner of intent accuracy against false accepts. Standard library
only."""


def frame(size, margins, xr, yr, title, subtitle, xticks, yticks):
    """Returns the SVG's opening lines and the X, Y scales.

    size (W, H); margins (L, T, R, B); xr (x0, x1) and yr (y0, y1) are the
    axes' ranges as fractions; xticks and yticks are how many grid lines."""
    W, H = size
    L, T, R, B = margins
    x0, x1 = xr
    y0, y1 = yr
    def X(v): return L + (v - x0) / (x1 - x0) * (W - L - R)
    def Y(v): return T + (y1 - v) / (y1 - y0) * (H - T - B)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="22" font-size="15" font-weight="bold">{title}</text>',
           f'<text x="{L}" y="38" fill="#555">{subtitle}</text>']
    for i in range(xticks):
        v = x0 + i * (x1 - x0) / (xticks - 1)
        out.append(f'<line x1="{X(v):.1f}" y1="{T}" x2="{X(v):.1f}" y2="{H-B}" stroke="#eee"/><text x="{X(v):.1f}" y="{H-B+16}" text-anchor="middle">{v*100:.0f}%</text>')
    for i in range(yticks):
        v = y0 + i * (y1 - y0) / (yticks - 1)
        out.append(f'<line x1="{L}" y1="{Y(v):.1f}" x2="{W-R}" y2="{Y(v):.1f}" stroke="#eee"/><text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v*100:.0f}%</text>')
    out.append(f'<text x="{(L+W-R)/2}" y="{H-18}" text-anchor="middle">false accepts (out-of-grammar clips given an intent)</text>')
    out.append(f'<text x="18" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 18 {(T+H-B)/2})">intent accuracy</text>')
    out.append(f'<rect x="{X(0):.1f}" y="{Y(1.0):.1f}" width="{X(0.05)-X(0):.1f}" height="{Y(0.97)-Y(1.0):.1f}" fill="#2a2" opacity="0.25"/>')
    return out, X, Y
