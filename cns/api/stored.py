"""What the API accepts for values it stores, as OpenAPI schema and as validation.

The databases cannot keep NUL, unpaired surrogates or NaN/Infinity (see :mod:`cns.core.storable`),
and a blank ``source``/``text`` is a 400 from the route. Both are written into
the published schema, so clients and contract tests (schemathesis) know what is accepted:

* ``STORED_TEXT`` / ``NOT_BLANK`` are documentation-only patterns (``json_schema_extra``); the
  validators and the routes enforce them with the documented 422 and 400;
* ``StoredJson`` is the type of ``metadata`` values: JSON without NUL in keys or strings and
  without NaN, which pydantic enforces and documents as a recursive ``StoredJson`` schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AllowInfNan, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from typing_extensions import TypeAliasType

from cns.core.storable import json_problem, text_problem

#: Python's whitespace (``str.isspace``: what ``str.strip`` removes) as a regex class body; ``\S``
#: would not do, since JSON-schema regexes do not count the separators U+001C-U+001F as space.
PY_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: "Not blank", documented (not enforced): a blank value is answered 400 by the route.
NOT_BLANK: dict[str, Any] = {"pattern": f"[^{PY_WHITESPACE}]"}
#: Stored text: not blank (a 400) and without NUL (a 422 from the model's validators).
STORED_TEXT: dict[str, Any] = {"pattern": f"^[^\\x00]*[^\\x00{PY_WHITESPACE}][^\\x00]*$"}
#: No NUL: the key and string rule of stored JSON.
NO_NUL = r"^[^\x00]*$"
#: Deeper metadata is refused with a clear message before pydantic's own recursion limit (~255
#: levels) answers with one "invalid" line per JSON type.
MAX_METADATA_DEPTH = 64


class _OnlyPatternKeys:
    """Schema of a dict with constrained keys: pydantic writes the key rule as ``patternProperties``,
    which leaves every other key allowed (``additionalProperties``); close that gap."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["additionalProperties"] = False
        return schema


_StoredStr = Annotated[str, StringConstraints(pattern=NO_NUL)]
_StoredFloat = Annotated[float, AllowInfNan(False)]
#: Recursive, hence a TypeAliasType (pydantic names it ``StoredJson`` in the OpenAPI components).
StoredJson = TypeAliasType(
    "StoredJson",
    "bool | int | _StoredFloat | _StoredStr | list[StoredJson] | StoredObject | None",
)
StoredObject = Annotated[dict[_StoredStr, StoredJson], _OnlyPatternKeys]
StoredMetadata = StoredObject


def can_exist(value: str) -> bool:
    """Whether a stored id or column could equal ``value``. One with a NUL cannot, and PostgreSQL
    fails the query instead of finding nothing (a 503 "retry later" before), so routes answer
    404 or an empty page for it without asking the database."""
    return text_problem(value) is None


def metadata_problem(value: Any) -> str | None:
    """One clear reason to refuse ``metadata`` (run before pydantic's per-type union errors)."""
    return None if value is None else json_problem(value, "metadata", max_depth=MAX_METADATA_DEPTH)
