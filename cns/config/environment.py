"""Unknown ``CNS_`` environment variables: a misspelled one would otherwise be ignored in silence.

pydantic-settings reads only the variables that name a key, so ``CNS_EMBEDING_DIM=768`` leaves
``embedding_dim`` at its default without a word. :func:`unknown_env_notice` lists such variables
with the closest known name. A misspelled key under a section (``CNS_MODELS__NLI_BAKEND``) needs no
warning: the section refuses unknown keys, so the config fails with an error naming it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from pydantic import BaseModel

ENV_PREFIX = "CNS_"
DELIMITER = "__"

#: ``CNS_`` variables read outside the configuration model, on purpose.
NON_CONFIG_ENV: frozenset[str] = frozenset(
    {
        "CNS_CONFIG_FILE",  # the YAML file itself
        "CNS_API_KEY",  # `cns run --api` / `cns submit`: the key sent to a remote service
        "CNS_PUBLIC_DATA_DIR",  # folder of the public evaluation data
        "CNS_RELIABILITY_RESULTS",  # where the reliability tests write their measurements
    }
)
#: Families of ``CNS_`` variables read outside the configuration model (test doubles, test services).
NON_CONFIG_ENV_PREFIXES: tuple[str, ...] = ("CNS_FAKE_NLI_", "CNS_TEST_")


def config_env_names(model: type[BaseModel], prefix: str = ENV_PREFIX) -> dict[str, bool]:
    """Every environment name of a key of ``model`` (sections too), mapped to whether it is a
    section (a model whose keys can be set one by one with ``__``)."""
    names: dict[str, bool] = {}
    for field_name, field in model.model_fields.items():
        name = prefix + field_name.upper()
        annotation = field.annotation
        is_section = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        names[name] = is_section
        if is_section:
            names.update(config_env_names(annotation, name + DELIMITER))  # type: ignore[arg-type]
    return names


def _fails_validation(name: str, known: Mapping[str, bool]) -> bool:
    """Whether ``name`` sits under a section, which refuses unknown keys with an error."""
    parts = name.split(DELIMITER)
    return any(known.get(DELIMITER.join(parts[:i])) for i in range(1, len(parts)))


def unknown_env_vars(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, str | None]:
    """``CNS_`` variables that name no key and are used nowhere else, each with the closest known
    name (None when nothing is close)."""
    known = config_env_names(model)
    candidates = sorted(known) + sorted(NON_CONFIG_ENV)
    unknown: dict[str, str | None] = {}
    for raw in environ:
        name = raw.upper()
        if not name.startswith(ENV_PREFIX) or name in known or name in NON_CONFIG_ENV:
            continue
        if name.startswith(NON_CONFIG_ENV_PREFIXES) or _fails_validation(name, known):
            continue
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        unknown[raw] = close[0] if close else None
    return dict(sorted(unknown.items()))


def unknown_env_message(unknown: Mapping[str, str | None]) -> str:
    """One line: the ignored variables, each with its did-you-mean."""
    parts = [f"{name} (did you mean {hint}?)" if hint else name for name, hint in unknown.items()]
    return "ignored unknown environment variable" + ("s" if len(parts) > 1 else "") + ": " + ", ".join(parts)
