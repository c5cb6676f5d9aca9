"""A small corpus for the `cns run` tests: two opposed narratives per topic sharing a cited DOI."""

from __future__ import annotations

from pathlib import Path

TEXTS = {
    "drift.md": (
        "# Continents drift\n\nBy A. Writer\n\nWe argue that continents drift across the mantle because the sea "
        "floor spreads from the ridges [1]. The magnetic stripes are symmetric about the ridges [1]. Therefore "
        "the sea floor is young near the ridges.\n\n[1] Vine, F. J. & Matthews, D. H. (1963). Magnetic anomalies "
        "over oceanic ridges. Nature 199, 947-949. doi:10.1038/199947a0\n"
    ),
    "fixed.txt": (
        "Fixed continents\n\nBy B. Writer\n\nWe argue that continents do not drift across the mantle because no "
        "force can move them. However, the magnetic stripes about the ridges [1] could come from reversals in "
        "place. Thus the sea floor is not young near the ridges.\n\nReferences\n1. Vine & Matthews (1963). "
        "Nature 199, 947. https://doi.org/10.1038/199947A0\n"
    ),
    "waves.txt": (
        "Light is a wave\n\nBy C. Writer\n\nWe argue that light is a wave because interference fringes appear "
        "behind two slits (Young, 1804). Therefore light bends around edges.\n\nReferences\n1. Young, T. (1804). "
        "Experiments and calculations relative to physical optics. doi:10.1098/rstl.1804.0001\n"
    ),
    "particles.txt": (
        "Light is not a wave\n\nBy D. Writer\n\nWe argue that light is not a wave because it carries momentum "
        "in quanta. However, the fringes of Young (1804) show only averages.\n\nReferences\n1. Young, T. (1804). "
        "Phil. Trans. 94, 1-16. https://doi.org/10.1098/RSTL.1804.0001\n"
    ),
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder
