"""Configuration mistakes a user makes: preset names, bad YAML, misspelled variables, odd weights."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cns.config import CNSConfig, CriticWeights
from cns.config.environment import NON_CONFIG_ENV, NON_CONFIG_ENV_PREFIXES, config_env_names
from cns.config.notices import forget_config_notices
from cns.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_notices() -> Iterator[None]:
    forget_config_notices()
    yield
    forget_config_notices()


def notices(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "cns.config.notices"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [("exploration", (0.1, 0.1, 0.8)), (" Verification ", (0.45, 0.45, 0.1)), ("default", (0.4, 0.3, 0.3))],
)
def test_preset_names_are_accepted_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[float, float, float]
) -> None:
    monkeypatch.setenv("CNS_CRITIC_WEIGHTS", value)
    weights = CNSConfig().critic_weights
    assert (weights.grounding, weights.logic, weights.novelty) == expected


def test_json_weights_still_work_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CRITIC_WEIGHTS", '{"grounding": 0.5, "logic": 0.25, "novelty": 0.25}')
    assert CNSConfig().critic_weights.grounding == 0.5


def test_preset_names_are_accepted_in_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CONFIG_FILE", str(write(tmp_path, "critic_weights: exploration\n")))
    assert CNSConfig().critic_weights.novelty == 0.8


def test_an_unknown_preset_lists_the_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CRITIC_WEIGHTS", "explore")
    with pytest.raises(ConfigError) as info:
        CNSConfig()
    message = str(info.value)
    assert "critic_weights" in message and "default, exploration, verification" in message
    assert "'explore'" in message and "\n" not in message


def test_bad_yaml_names_file_line_and_problem_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "embedding_dim: 384\nmodels:\n  nli: [a, b\n  device: cpu\n")
    monkeypatch.setenv("CNS_CONFIG_FILE", str(path))
    with pytest.raises(ConfigError) as info:
        CNSConfig()
    message = str(info.value)
    assert message.startswith(f"config file {path}, line 4, column 9: invalid YAML: ")
    assert "expected ',' or ']', but got ':'" in message
    assert "(while parsing a flow sequence on line 3)" in message
    assert "\n" not in message and info.value.details["key"] == "CNS_CONFIG_FILE"


def test_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CONFIG_FILE", str(write(tmp_path, "- embedding_dim\n- 384\n")))
    with pytest.raises(ConfigError, match=r"expected `key: value` lines at the top level, found a list"):
        CNSConfig()


def test_a_structured_value_that_is_not_json_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_SERVICE__TRUSTED_PROXIES", "10.0.0.1")
    monkeypatch.setenv("CNS_SERVICE__PORT", "9000")  # valid: not named
    with pytest.raises(ConfigError) as info:
        CNSConfig()
    message = str(info.value)
    assert message.startswith("environment variable CNS_SERVICE__TRUSTED_PROXIES: ")
    assert "must be JSON" in message and "CNS_SERVICE__PORT" not in message


def test_an_unknown_key_in_a_section_suggests_the_closest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CNS_MODELS__NLI_BAKEND", "fake")
    with pytest.raises(ConfigError) as info:
        CNSConfig()
    assert "'models.nli_bakend': unknown key" in str(info.value)
    assert "did you mean 'models.nli_backend' (CNS_MODELS__NLI_BACKEND)?" in str(info.value)
    monkeypatch.delenv("CNS_MODELS__NLI_BAKEND")
    monkeypatch.setenv("CNS_CONFIG_FILE", str(write(tmp_path, "thresholds: {synthesys: 0.4}\n")))
    with pytest.raises(ConfigError, match=r"did you mean 'thresholds.synthesis'"):
        CNSConfig()


def test_unknown_cns_variables_are_warned_once_with_a_suggestion(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CNS_EMBEDING_DIM", "768")
    monkeypatch.setenv("CNS_MODLES__NLI", "x")
    monkeypatch.setenv("CNS_ZZZ", "1")
    with caplog.at_level(logging.WARNING):
        config = CNSConfig()
        CNSConfig()
    assert config.embedding_dim == 384  # ignored, hence the warning
    assert notices(caplog) == [
        "ignored unknown environment variables: CNS_EMBEDING_DIM (did you mean CNS_EMBEDDING_DIM?), "
        "CNS_MODLES__NLI (did you mean CNS_MODELS__NLI?), CNS_ZZZ"
    ]


def test_known_and_non_config_variables_are_not_warned(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    for name, value in {
        "CNS_EMBEDDING_DIM": "384",
        "CNS_CRITIC_WEIGHTS__GROUNDING": "0.5",
        "CNS_EXTRACTION__NLI__CERTAIN": "0.9",
        "cns_log_level": "INFO",
        "CNS_CONFIG_FILE": str(write(tmp_path, "{}\n")),
        "CNS_API_KEY": "k",
        "CNS_PUBLIC_DATA_DIR": str(tmp_path),
        "CNS_FAKE_NLI_DELAY_SECONDS": "0",
        "CNS_TEST_POSTGRES_URL": "postgresql://x",
    }.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level(logging.WARNING):
        CNSConfig()
    assert notices(caplog) == []


def test_every_cns_variable_the_repository_uses_is_known() -> None:
    """A ``CNS_`` variable read outside the config must be listed as such, or users get warned."""
    known = config_env_names(CNSConfig)
    used: set[str] = set()
    for folder in ("cns", "tests", "scripts", "benchmarks", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".yaml", ".yml", ".sh"} and path.is_file():
                used.update(re.findall(r"\bCNS_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    misspelled_on_purpose = {"CNS_EMBEDING_DIM", "CNS_MODLES__NLI", "CNS_ZZZ", "CNS_MODELS__NLI_BAKEND"}
    stray = sorted(
        name
        for name in used - misspelled_on_purpose
        if name not in known and name not in NON_CONFIG_ENV and not name.startswith(NON_CONFIG_ENV_PREFIXES)
    )
    assert not stray, f"add to NON_CONFIG_ENV in cns/config/environment.py or fix: {stray}"


def test_a_critic_with_all_of_the_weight_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        config = CNSConfig(critic_weights={"grounding": 5, "logic": 0, "novelty": 0})
        CriticWeights(grounding=1, logic=1, novelty=0)
    assert config.critic_weights.grounding == 5  # kept: T = Σ wᵢ sᵢ / Σ wᵢ makes it 1/0/0
    assert notices(caplog) == [
        "critic weights 5/0/0 (grounding/logic/novelty) give the grounding critic all of the weight: "
        "the trust score is its score alone"
    ]


def test_all_zero_weights_say_so() -> None:
    with pytest.raises(ConfigError, match=r"all weights are 0"):
        CNSConfig(critic_weights={"grounding": 0, "logic": 0, "novelty": 0})


def test_with_weights_refuses_an_unknown_preset_by_name() -> None:
    assert CNSConfig().with_weights("Exploration").critic_weights.novelty == 0.8
    with pytest.raises(
        ConfigError, match=r"unknown preset 'explore' \(expected default, exploration, verification\)"
    ):
        CNSConfig().with_weights("explore")
