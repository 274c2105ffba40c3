"""PNG pictures of layouts with KLayout's own renderer (``klayout.lay.LayoutView``)."""

from __future__ import annotations

from pathlib import Path

#: (layer name, fill colour, dither pattern index) in drawing order, bottom first
_STYLE = (
    ("nwell", 0x99CCFF, 4), ("diff", 0x33CC33, 2), ("tap", 0x66AA66, 2), ("poly", 0xFF3333, 3),
    ("li", 0x9966FF, 5), ("met1", 0x3366FF, 6), ("met2", 0xFF66CC, 7), ("met3", 0x00CCCC, 8),
    ("capm", 0xFFCC00, 9), ("met4", 0xCC9900, 10), ("licon", 0x222222, 0), ("mcon", 0x444444, 0),
    ("via", 0x666666, 0), ("via2", 0x888888, 0), ("via3", 0xAAAAAA, 0),
)


def render_png(gds: str | Path, out: str | Path, width: int = 1200, height: int = 900,
               box_um: tuple[float, float, float, float] | None = None, top: str | None = None) -> Path:
    """Render ``gds`` (all hierarchy levels) to ``out``; ``box_um`` zooms to (x0, y0, x1, y1)."""
    import klayout.db as db
    import klayout.lay as lay

    from eda.tech.sky130 import sky130

    tech = sky130()
    lv = lay.LayoutView()
    lv.set_config("background-color", "#ffffff")
    lv.set_config("grid-visible", "false")
    lv.set_config("text-visible", "false")
    idx = lv.load_layout(str(gds), False)
    if top is not None:
        lv.cellview(idx).cell_name = top
    lv.clear_layers()
    for name, color, dither in _STYLE:
        lay_ = tech.layer(name)
        node = lay.LayerPropertiesNode()
        node.source = f"{lay_.layer}/{lay_.datatype}@{idx + 1}"
        node.fill_color = color
        node.frame_color = color
        node.dither_pattern = dither
        node.transparent = True
        lv.insert_layer(lv.end_layers(), node)
    lv.max_hier()
    if box_um is not None:
        lv.zoom_box(db.DBox(*box_um))
    else:
        lv.zoom_fit()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lv.save_image(str(out), width, height)
    return out
