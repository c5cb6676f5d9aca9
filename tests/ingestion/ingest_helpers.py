"""Test helpers for ingestion: sample documents and a hand-written text PDF (no PDF writer needed)."""

from __future__ import annotations

import zlib

DRIFT_TEXT = """Continental Drift Revisited
By Jane Doe

Abstract
We argue that the continents have moved across the globe over geological time [1]. The fit of the coastlines of South America and Africa is striking (Wegener, 1912).

Evidence
Identical fossils of Mesosaurus appear on both continents, which suggests they were once joined [2]. Because the reptile could not swim across an ocean, a land connection is required. However, critics claimed that sunken land bridges explain the fossils. Land bridges cannot explain matching rock strata, since the strata continue across the coasts. Therefore continental drift is the better explanation of the record. Palaeomagnetic data show that the magnetic poles appear to wander differently for each continent, see doi:10.1000/XYZ.1.

Conclusion
In conclusion, the evidence shows that continents drift, as Wegener (1912) proposed.

References
[1] Wegener, A. (1912). Die Entstehung der Kontinente. https://doi.org/10.1007/BF01802337
[2] Smith, J. (1999). Fossils and drift. Journal of Geology. https://example.org/fossils
"""

OTHER_TEXT = """Plate Tectonics and its Critics

We propose that mantle convection drives the motion of the plates. Seafloor spreading at mid-ocean ridges produces new crust, because magma rises where plates separate. The magnetic stripes on the ocean floor are symmetric about the ridges, as shown by ship surveys (https://doi.org/10.1000/xyz.1). However, the force balance of slab pull remains debated among geophysicists. Therefore mantle convection is the most plausible engine of plate motion.
"""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_text_pdf(lines: list[str], *, title: str | None = None, author: str | None = None) -> bytes:
    """A valid one-page PDF with Helvetica text lines and an Info dictionary (xref offsets computed)."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    info = []
    if title:
        info.append(f"/Title ({_escape(title)})")
    if author:
        info.append(f"/Author ({_escape(author)})")
    info.append("/CreationDate (D:20240115120000Z)")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ("<< " + " ".join(info) + " >>").encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def make_pdf_bomb(*, pages: int = 20, repeats: int = 20_000, draw_text: bool = True) -> bytes:
    """A few-KB PDF whose ``pages`` pages all show one Flate-compressed content stream.

    The stream repeats a text operator ``repeats`` times: with ``draw_text`` each repetition shows
    a 67-character sentence (20 pages x 20,000 ≈ 27 million characters from a 6 KB file); without
    it, the operators show nothing, so extraction takes seconds per page and yields no text at all
    (only a time limit stops it).
    """
    operator = (
        b"(Coffee improves focus because caffeine blocks adenosine receptors.) Tj T*\n"
        if draw_text
        else b"0 0 Td () Tj\n"
    )
    stream = zlib.compress(b"BT /F1 11 Tf 14 TL 72 720 Td\n" + operator * repeats + b"ET", 9)
    font = 4 + pages
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{4 + i} 0 R' for i in range(pages))}] /Count {pages} >>".encode(),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        *[
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % font
        ]
        * pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
