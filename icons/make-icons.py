"""Draws Nightshift's app and tray icons (run by hand after a design change; the PNGs are
committed). A crescent moon; tray variants add a status mark in the corner.

    python3 icons/make-icons.py        (needs Pillow)
"""

from pathlib import Path
from PIL import Image, ImageDraw

HERE = Path(__file__).parent
MOON = (236, 232, 255, 255)
NIGHT = (49, 46, 129, 255)
STATES = {
    # name: (mark colour, mark shape)
    "idle": (None, None),
    "running": ((34, 197, 94, 255), "dot"),
    "waiting": ((250, 204, 21, 255), "bolt"),
    "paused": ((148, 163, 184, 255), "bars"),
    "attention": ((239, 68, 68, 255), "dot"),
}


def moon(size: int, background: bool) -> Image.Image:
    scale = 4  # draw large, then shrink, for smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if background:
        d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=NIGHT)
        pad = s // 6
    else:
        pad = s // 14
    d.ellipse((pad, pad, s - pad, s - pad), fill=MOON)
    cut = (s - 2 * pad) * 0.78
    off = s * 0.26
    cut_fill = NIGHT if background else (0, 0, 0, 0)
    d.ellipse((pad + off, pad - off * 0.35, pad + off + cut, pad - off * 0.35 + cut), fill=cut_fill)
    return img.resize((size, size), Image.LANCZOS)


def mark(img: Image.Image, colour, shape) -> Image.Image:
    if colour is None:
        return img
    s = img.width
    d = ImageDraw.Draw(img)
    r = s * 0.22
    cx, cy = s - r - 1, s - r - 1
    d.ellipse((cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1), fill=(20, 20, 30, 255))
    if shape == "dot":
        d.ellipse((cx - r * 0.8, cy - r * 0.8, cx + r * 0.8, cy + r * 0.8), fill=colour)
    elif shape == "bars":
        w = r * 0.35
        d.rectangle((cx - r * 0.65, cy - r * 0.7, cx - r * 0.65 + w, cy + r * 0.7), fill=colour)
        d.rectangle((cx + r * 0.65 - w, cy - r * 0.7, cx + r * 0.65, cy + r * 0.7), fill=colour)
    elif shape == "bolt":
        d.polygon(
            [(cx + r * 0.2, cy - r * 0.85), (cx - r * 0.55, cy + r * 0.1), (cx, cy + r * 0.1),
             (cx - r * 0.2, cy + r * 0.85), (cx + r * 0.55, cy - r * 0.1), (cx, cy - r * 0.1)],
            fill=colour,
        )
    return img


def main() -> None:
    for size, name in [(32, "32x32.png"), (128, "128x128.png"), (256, "icon.png")]:
        moon(size, background=True).save(HERE / name)
    for state, (colour, shape) in STATES.items():
        mark(moon(64, background=False), colour, shape).save(HERE / f"tray-{state}.png")


if __name__ == "__main__":
    main()
