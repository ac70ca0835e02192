#!/usr/bin/env python3
"""Draw the Presence Bridge icons: the app icon and one tray icon per presence tone and badge.

Every PNG in this folder comes from this script, so the shapes and colours live in one place.
Run it from anywhere with `python3 icons/generate.py`; it needs only the standard library.
It also writes the app icon to `ui/icon-32.png` for the window header.
Shapes are described in pixel units of a 32 px grid and rendered with 4x4 supersampling, so the
edges stay crisp at 16 px (the host scales the 32 px image down) and at 32 px.
"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SUPERSAMPLE = 4
GRID = 32.0

# Presence tones, close to the colours Teams uses, so a glance at the tray reads the same.
TONES = {
    "available": (0x2E, 0x9E, 0x44),
    "busy": (0xD1, 0x34, 0x38),
    "dnd": (0x8B, 0x1A, 0x1F),
    "away": (0xE0, 0xA8, 0x00),
    "offline": (0x8A, 0x88, 0x86),
}
WHITE = (0xFF, 0xFF, 0xFF)
# The tray disc's rim: its width in grid units and its colour as a share of the tone.
RIM_WIDTH = 2.0
RIM_SHADE = 0.55
BADGE_PAUSED = (0x2F, 0x3E, 0x50)
BADGE_ACTION = (0xF7, 0x63, 0x0C)


def disc(cx, cy, r):
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def ring(cx, cy, r_outer, r_inner):
    return lambda x, y: r_inner**2 < (x - cx) ** 2 + (y - cy) ** 2 <= r_outer**2


def segment(ax, ay, bx, by, half_width):
    """A line from a to b with round caps."""
    dx, dy = bx - ax, by - ay
    length_sq = dx * dx + dy * dy

    def inside(x, y):
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length_sq))
        px, py = ax + t * dx, ay + t * dy
        return (x - px) ** 2 + (y - py) ** 2 <= half_width * half_width

    return inside


def glyph(tone, cx, cy, r):
    """The white mark inside a presence disc, so the tone does not rest on colour alone."""
    s = r / 13.0
    if tone == "available":
        return [segment(cx - 6 * s, cy + 0.5 * s, cx - 1.5 * s, cy + 5 * s, 2.1 * s),
                segment(cx - 1.5 * s, cy + 5 * s, cx + 6.5 * s, cy - 4.5 * s, 2.1 * s)]
    if tone == "dnd":
        return [segment(cx - 6.5 * s, cy, cx + 6.5 * s, cy, 2.2 * s)]
    if tone == "away":
        return [segment(cx, cy - 7 * s, cx, cy, 2.0 * s),
                segment(cx, cy, cx + 5 * s, cy + 3 * s, 2.0 * s)]
    if tone == "offline":
        return [disc(cx, cy, 8.0 * s)]
    return []


def tray_layers(tone, badge):
    color = TONES[tone]
    cx = cy = 16.0
    r = 14.5
    # A darker rim keeps light tones (Away) readable on light panels.
    rim = tuple(round(c * RIM_SHADE) for c in color)
    layers = [(disc(cx, cy, r), rim), (disc(cx, cy, r - RIM_WIDTH), color)]
    layers += [(shape, WHITE) for shape in glyph(tone, cx, cy, r)]
    if badge != "none":
        bx, by, br = 24.5, 24.5, 7.5
        # A transparent gap around the badge separates it from the disc on any panel colour.
        layers.append((disc(bx, by, br + 1.5), None))
        if badge == "paused":
            layers.append((disc(bx, by, br), BADGE_PAUSED))
            layers.append((segment(bx - 2.2, by - 3.2, bx - 2.2, by + 3.2, 1.2), WHITE))
            layers.append((segment(bx + 2.2, by - 3.2, bx + 2.2, by + 3.2, 1.2), WHITE))
        else:
            layers.append((disc(bx, by, br), BADGE_ACTION))
            layers.append((segment(bx, by - 4.0, bx, by + 0.8, 1.3), WHITE))
            layers.append((disc(bx, by + 3.6, 1.35), WHITE))
    return layers


def app_layers():
    """Two overlapping presence discs (Teams violet, Swyx teal) joined by a white bridge."""
    teams = (0x5B, 0x5F, 0xC7)
    swyx = (0x00, 0x83, 0x8F)
    return [
        (disc(11.5, 16.0, 10.5), teams),
        (disc(20.5, 16.0, 10.5), swyx),
        (segment(8.0, 16.0, 24.0, 16.0, 2.0), WHITE),
        (disc(8.0, 16.0, 3.4), WHITE),
        (disc(24.0, 16.0, 3.4), WHITE),
    ]


def render(layers, size):
    """Return RGBA rows; each pixel averages SUPERSAMPLE^2 samples of the painted layers."""
    scale = GRID / size
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SUPERSAMPLE):
                for sx in range(SUPERSAMPLE):
                    x = (px + (sx + 0.5) / SUPERSAMPLE) * scale
                    y = (py + (sy + 0.5) / SUPERSAMPLE) * scale
                    sample = None
                    for inside, color in layers:
                        if inside(x, y):
                            sample = color
                    if sample is not None:
                        acc[0] += sample[0]
                        acc[1] += sample[1]
                        acc[2] += sample[2]
                        acc[3] += 1.0
            if acc[3] == 0:
                row += bytes(4)
            else:
                n = SUPERSAMPLE * SUPERSAMPLE
                row += bytes(
                    [round(acc[0] / acc[3]), round(acc[1] / acc[3]), round(acc[2] / acc[3]),
                     round(255 * acc[3] / n)])
        rows.append(bytes(row))
    return rows


def write_png(path, rows, size):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as file:
        file.write(png)


def write_ico(path, pngs):
    """Write an ICO file whose images are PNGs, as Windows Vista and later read them.

    `pngs` holds (size, PNG bytes) pairs; the Windows build embeds the file as the app icon."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries = b""
    for size, png in pngs:
        # A width or height of 256 is written as 0.
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
    with open(path, "wb") as file:
        file.write(header + entries + b"".join(png for _, png in pngs))


def main():
    outputs = []
    for size in (32, 128):
        outputs.append((f"icon-{size}.png", app_layers(), size))
    for tone in TONES:
        for badge in ("none", "paused", "action"):
            outputs.append((f"tray-{tone}-{badge}.png", tray_layers(tone, badge), 32))
    for name, layers, size in outputs:
        write_png(os.path.join(HERE, name), render(layers, size), size)
        print(name)
    # The window shows the app icon in its header; it is served from ui/ like the page.
    window_icon = os.path.join(HERE, "..", "ui", "icon-32.png")
    write_png(window_icon, render(app_layers(), 32), 32)
    print("../ui/icon-32.png")
    pngs = []
    for size in (32, 128):
        with open(os.path.join(HERE, f"icon-{size}.png"), "rb") as file:
            pngs.append((size, file.read()))
    write_ico(os.path.join(HERE, "icon.ico"), pngs)
    print("icon.ico")


if __name__ == "__main__":
    main()
