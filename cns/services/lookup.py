"""Resolve what a person typed — an id prefix or a file name — to one stored object.

Every CLI command that takes an SNO, document or pair id calls one of these functions, and so do
the API routes and the pages that take an SNO, pair or job id, so a prefix works the same in
``cns show``, ``cns synthesize``, ``GET /snos/{id}`` and ``/ui/pairs/{id}``: a unique prefix is
enough, an ambiguous one is refused with the candidates and their file names,
and a prefix that matches nothing says so. The lookup itself is one indexed query in the store
(:meth:`~cns.store.sql.SQLStore.ids_with_prefix`), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from cns.errors import (
    AmbiguousIdError,
    DocumentNotFoundError,
    JobNotFoundError,
    PairNotFoundError,
    SNONotFoundError,
)
from cns.store.sql import IdKind, IdMatch, SQLStore

#: how many candidates an ambiguous prefix lists
CANDIDATES_SHOWN = 8
_NOUN = {"sno": "SNO", "document": "document", "pair": "pair", "job": "job"}


def short_id(value: str, length: int = 12) -> str:
    """The first ``length`` characters of an id: what the CLI prints (any unique prefix is accepted)."""
    return value[:length]


def file_label(source: str | None) -> str:
    """A file name for display: the last path component of a source (``#line`` of a JSONL kept)."""
    if not source:
        return "(no file)"
    return PurePath(source).name or source


def describe(match: IdMatch) -> str:
    """``<id> (<file>)``, or ``<id> (<file a> ↔ <file b>)`` for a pair."""
    return f"{match.id} ({' ↔ '.join(file_label(s) for s in match.sources)})"


def _ambiguous(kind: IdKind, prefix: str, matches: Sequence[IdMatch], more: bool) -> AmbiguousIdError:
    listed = "; ".join(describe(m) for m in matches[:CANDIDATES_SHOWN])
    tail = " and more" if more or len(matches) > CANDIDATES_SHOWN else ""
    return AmbiguousIdError(
        f"{_NOUN[kind]} id prefix {prefix!r} is ambiguous: it matches {listed}{tail}; give more characters",
        kind=kind,
        prefix=prefix,
        candidates=[(m.id, list(m.sources)) for m in matches[:CANDIDATES_SHOWN]],
    )


def _not_found(kind: IdKind, prefix: str, extra: str = "") -> Exception:
    message = f"no stored {_NOUN[kind]} has an id starting with {prefix!r}{extra}"
    if kind == "sno":
        return SNONotFoundError(message, sno_id=prefix)
    if kind == "pair":
        return PairNotFoundError(message + " (`cns pairs` or GET /pairs lists them)", pair_id=prefix)
    if kind == "job":
        return JobNotFoundError(message, job_id=prefix)
    return DocumentNotFoundError(message, document_id=prefix)


def find(store: SQLStore, kind: IdKind, prefix: str) -> list[IdMatch]:
    """Objects of ``kind`` whose id starts with ``prefix``; a full id wins over longer ids it prefixes."""
    prefix = prefix.strip()
    if not prefix:
        return []
    matches = store.ids_with_prefix(kind, prefix, limit=CANDIDATES_SHOWN + 1)
    exact = [m for m in matches if m.id == prefix]
    return exact or matches


def resolve(store: SQLStore, kind: IdKind, prefix: str) -> IdMatch:
    """The one object of ``kind`` whose id starts with ``prefix``.

    Raises :class:`~cns.errors.AmbiguousIdError` (listing the candidates with their file names)
    when several match, and the kind's not-found error when none does.
    """
    matches = find(store, kind, prefix)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise _ambiguous(kind, prefix, matches, more=len(matches) > CANDIDATES_SHOWN)
    raise _not_found(kind, prefix)


def resolve_narrative(store: SQLStore, ref: str) -> IdMatch:
    """The SNO meant by ``ref``: an SNO id prefix, a document id prefix (its SNO), or a file name.

    The id kinds are tried in that order and the first that matches anything decides (an
    ambiguous prefix is refused, not guessed); a file name matches an SNO whose source is that
    path or ends with ``/<name>``.
    """
    kinds: tuple[IdKind, ...] = ("sno", "document")
    for kind in kinds:
        matches = find(store, kind, ref)
        if len(matches) > 1:
            raise _ambiguous(kind, ref, matches, more=len(matches) > CANDIDATES_SHOWN)
        if matches:
            match = matches[0]
            if kind == "document":
                if match.sno_id is None:
                    raise SNONotFoundError(
                        f"document {describe(match)} has no stored SNO (its extraction failed)",
                        document_id=match.id,
                    )
                return IdMatch("sno", match.sno_id, match.sources, match.sno_id, match.id)
            return match
    by_file = store.snos_with_source(ref.strip(), limit=CANDIDATES_SHOWN + 1) if ref.strip() else []
    if len(by_file) == 1:
        return by_file[0]
    if by_file:
        raise AmbiguousIdError(
            f"file name {ref!r} matches several SNOs: "
            + "; ".join(describe(m) for m in by_file[:CANDIDATES_SHOWN])
            + "; give an id prefix instead",
            prefix=ref,
            candidates=[(m.id, list(m.sources)) for m in by_file[:CANDIDATES_SHOWN]],
        )
    raise _not_found("sno", ref, " or a document id starting with it, and no stored file has that name")


def resolve_document(store: SQLStore, ref: str) -> IdMatch:
    """The document meant by ``ref``: a document id prefix, else the document of an SNO id prefix."""
    matches = find(store, "document", ref)
    if len(matches) > 1:
        raise _ambiguous("document", ref, matches, more=len(matches) > CANDIDATES_SHOWN)
    if matches:
        return matches[0]
    snos = find(store, "sno", ref)
    if len(snos) > 1:
        raise _ambiguous("sno", ref, snos, more=len(snos) > CANDIDATES_SHOWN)
    if snos:
        sno = snos[0]
        if sno.document_id is not None:
            return IdMatch("document", sno.document_id, sno.sources, sno.id, sno.document_id)
        raise DocumentNotFoundError(
            f"SNO {describe(sno)} has no document (it is a synthesis, or was stored without one)",
            sno_id=sno.id,
        )
    raise _not_found("document", ref, " (nor an SNO id)")
