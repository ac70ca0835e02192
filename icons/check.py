#!/usr/bin/env python3
"""Check every tray icon state: size, distinctness and contrast on light and dark panels.

Usage: python3 icons/check.py [OUTPUT_DIR]

Renders each tray state (5 presence tones x 3 badges) with icons/generate.py at 16, 22, 24 and
32 px into OUTPUT_DIR (default: a temporary folder), reads every PNG back with a small decoder,
and checks:

- size: each file decodes to the requested width and height, and the checked-in 32 px files
  that the app embeds are byte for byte what the generator draws now;
- distinctness: every pair of states at the same size differs in at least MIN_DIFFERENT_SHARE
  of the icon's pixels, where a pixel counts as different when its colour, composited on a
  mid-grey panel, moves by at least PIXEL_DELTA (mean of R, G and B, 0-255);
- contrast: on a light and on a dark panel, at least MIN_CONTRAST_SHARE of each icon's opaque
  pixels reach a WCAG contrast ratio of MIN_CONTRAST against the panel colour, so the shape
  stays readable on both (WCAG 2.1 requires 3:1 for graphical objects).

Prints the measured minimum for each check and exits with 1 on the first failed size check or
after listing every failed pair or icon. Needs only the standard library.
"""

import itertools
import os
import struct
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402  (the generator lives next to this file)

SIZES = (16, 22, 24, 32)
BADGES = ("none", "paused", "action")
# Panel colours: a light grey and a near-black panel.
LIGHT_PANEL = (0xEF, 0xF0, 0xF1)
DARK_PANEL = (0x1E, 0x1E, 0x1E)
MID_PANEL = (0x80, 0x80, 0x80)
PIXEL_DELTA = 40
MIN_DIFFERENT_SHARE = 0.05
MIN_CONTRAST = 3.0
MIN_CONTRAST_SHARE = 0.10


def read_png(path):
    """Decode an 8-bit RGBA, non-interlaced PNG into (width, height, rows of RGBA tuples)."""
    with open(path, "rb") as file:
        data = file.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    offset = 8
    header = None
    compressed = b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: IHDR chunk missing")
    width, height, depth, color_type, _, _, interlace = header
    if (depth, color_type, interlace) != (8, 6, 0):
        raise ValueError(f"{path}: expected 8-bit RGBA without interlacing, got {header}")
    raw = zlib.decompress(compressed)
    stride = width * 4
    rows = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - 4] if i >= 4 else 0
            up = previous[i]
            up_left = previous[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
                if pa <= pb and pa <= pc:
                    predictor = left
                elif pb <= pc:
                    predictor = up
                else:
                    predictor = up_left
                line[i] = (line[i] + predictor) & 0xFF
            elif kind != 0:
                raise ValueError(f"{path}: unknown filter type {kind} in row {y}")
        rows.append([tuple(line[x:x + 4]) for x in range(0, stride, 4)])
        previous = line
    return width, height, rows


def composite(pixel, panel):
    r, g, b, a = pixel
    alpha = a / 255.0
    return tuple(c * alpha + p * (1.0 - alpha) for c, p in zip((r, g, b), panel))


def luminance(rgb):
    """WCAG 2.1 relative luminance of an sRGB colour with 0-255 channels."""
    def linear(channel):
        c = channel / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first, second):
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def different_share(first, second):
    """Share of pixels, among those opaque in either icon, that differ on a mid-grey panel."""
    counted = different = 0
    for row_a, row_b in zip(first, second):
        for a, b in zip(row_a, row_b):
            if a[3] < 128 and b[3] < 128:
                continue
            counted += 1
            ca, cb = composite(a, MID_PANEL), composite(b, MID_PANEL)
            if sum(abs(x - y) for x, y in zip(ca, cb)) / 3 >= PIXEL_DELTA:
                different += 1
    return different / counted if counted else 0.0


def contrast_share(rows, panel):
    """Share of the icon's opaque pixels whose colour contrasts MIN_CONTRAST:1 with `panel`."""
    opaque = readable = 0
    for row in rows:
        for pixel in row:
            if pixel[3] < 128:
                continue
            opaque += 1
            if contrast(composite(pixel, panel), panel) >= MIN_CONTRAST:
                readable += 1
    return readable / opaque if opaque else 0.0


def main(argv):
    output = argv[0] if argv else tempfile.mkdtemp(prefix="tray-icons-")
    os.makedirs(output, exist_ok=True)
    states = [(tone, badge) for tone in generate.TONES for badge in BADGES]
    failures = []

    # The checked-in files are what the app embeds; they must match the generator.
    for tone, badge in states:
        name = f"tray-{tone}-{badge}.png"
        fresh = os.path.join(output, f"fresh-{name}")
        generate.write_png(fresh, generate.render(generate.tray_layers(tone, badge), 32), 32)
        with open(fresh, "rb") as a, open(os.path.join(HERE, name), "rb") as b:
            if a.read() != b.read():
                failures.append(f"{name} differs from what icons/generate.py draws; run it again")

    for size in SIZES:
        icons = {}
        for tone, badge in states:
            path = os.path.join(output, f"tray-{tone}-{badge}-{size}.png")
            generate.write_png(path, generate.render(generate.tray_layers(tone, badge), size), size)
            width, height, rows = read_png(path)
            if (width, height) != (size, size) or len(rows) != size:
                print(f"FAIL size: {path} is {width}x{height}, expected {size}x{size}")
                return 1
            icons[(tone, badge)] = rows
        print(f"{size} px: {len(icons)} states, each {size}x{size}")

        worst_pair = None
        for first, second in itertools.combinations(states, 2):
            share = different_share(icons[first], icons[second])
            if worst_pair is None or share < worst_pair[0]:
                worst_pair = (share, first, second)
            if share < MIN_DIFFERENT_SHARE:
                failures.append(
                    f"{size} px: {'-'.join(first)} and {'-'.join(second)} differ in only "
                    f"{share:.1%} of their pixels (minimum {MIN_DIFFERENT_SHARE:.0%})")
        share, first, second = worst_pair
        print(f"  closest pair: {'-'.join(first)} / {'-'.join(second)}, {share:.1%} of pixels differ")

        for panel_name, panel in (("light", LIGHT_PANEL), ("dark", DARK_PANEL)):
            worst = None
            for state in states:
                share = contrast_share(icons[state], panel)
                if worst is None or share < worst[0]:
                    worst = (share, state)
                if share < MIN_CONTRAST_SHARE:
                    failures.append(
                        f"{size} px on the {panel_name} panel: {'-'.join(state)} has only "
                        f"{share:.1%} of its pixels at {MIN_CONTRAST}:1 contrast "
                        f"(minimum {MIN_CONTRAST_SHARE:.0%})")
            print(f"  {panel_name} panel: lowest share at {MIN_CONTRAST}:1 is "
                  f"{worst[0]:.1%} ({'-'.join(worst[1])})")

    print(f"rendered icons: {output}")
    for failure in failures:
        print(f"FAIL {failure}")
    if failures:
        return 1
    print(f"tray icons passed: {len(states)} states at {', '.join(map(str, SIZES))} px")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
