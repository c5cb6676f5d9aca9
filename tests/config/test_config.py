from __future__ import annotations

from pathlib import Path

import pytest

from cns.config import CNSConfig, config_sources, redacted_config
from cns.config.settings import ChiralityMethod
from cns.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_follow_the_spec() -> None:
    config = CNSConfig()
    assert config.critic_weights.as_dict() == {"grounding": 0.4, "logic": 0.3, "novelty": 0.3}
    assert config.embedding_dim == 384
    assert config.models.embedding == "sentence-transformers/all-MiniLM-L6-v2"
    assert config.models.nli == "roberta-large-mnli"
    assert config.chirality.method is ChiralityMethod.NARRATIVE  # the guide's 1 − cos measures topic change
    assert config.pair_search.side_consistency and config.pair_search.topic_neighbours > 0
    assert config.thresholds.ingest == 0.3 and config.thresholds.synthesis == 0.5


def test_yaml_keys_of_the_guide_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        "embedding_dim: 768\ncritic_weights: {grounding: 0.6, logic: 0.2, novelty: 0.2}\n"
        "models:\n  embedding: all-mpnet-base-v2\n  nli: cross-encoder/nli-deberta-v3-xsmall\n",
    )
    monkeypatch.setenv("CNS_CONFIG_FILE", str(path))
    config = CNSConfig()
    assert config.embedding_dim == 768
    assert config.critic_weights.grounding == 0.6
    assert config.models.embedding == "all-mpnet-base-v2"
    assert config.models.nli == "cross-encoder/nli-deberta-v3-xsmall"
    assert config.models.batch_size == 32  # untouched nested default survives the merge


def test_env_overrides_yaml_which_overrides_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path, "embedding_dim: 768\nmodels: {nli: from-yaml, device: cpu}\nthresholds: {ingest: 0.4}\n"
    )
    monkeypatch.setenv("CNS_CONFIG_FILE", str(path))
    monkeypatch.setenv("CNS_EMBEDDING_DIM", "512")
    monkeypatch.setenv("CNS_MODELS__NLI", "from-env")
    config = CNSConfig()
    assert config.embedding_dim == 512
    assert config.models.nli == "from-env"
    assert config.thresholds.ingest == 0.4
    sources = config_sources(config)
    assert sources["embedding_dim"] == "env:CNS_EMBEDDING_DIM"
    assert sources["models.nli"] == "env:CNS_MODELS__NLI"
    assert sources["thresholds.ingest"].startswith("yaml:")
    assert sources["thresholds.synthesis"] == "default"
    # keyword arguments beat everything
    assert CNSConfig(embedding_dim=100).embedding_dim == 100


def test_critic_weights_env_is_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CRITIC_WEIGHTS", '{"grounding":0.5,"logic":0.25,"novelty":0.25}')
    assert CNSConfig().critic_weights.as_dict() == {"grounding": 0.5, "logic": 0.25, "novelty": 0.25}


def test_critic_weight_presets_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CONFIG_FILE", str(write(tmp_path, "critic_weights: exploration\n")))
    assert CNSConfig().critic_weights.as_dict() == {"grounding": 0.1, "logic": 0.1, "novelty": 0.8}
    assert CNSConfig().with_weights("verification").critic_weights.novelty == 0.1


@pytest.mark.parametrize(
    ("env", "value", "key"),
    [
        ("CNS_EMBEDDING_DIM", "abc", "embedding_dim"),
        ("CNS_CRITIC_WEIGHTS", '{"grounding": -1}', "critic_weights.grounding"),
        ("CNS_THRESHOLDS__INGEST", "1.5", "thresholds.ingest"),
        ("CNS_MODELS__NLI_BACKEND", "magic", "models.nli_backend"),
        ("CNS_CHIRALITY__METHOD", "vibes", "chirality.method"),
    ],
)
def test_invalid_values_fail_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, key: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        CNSConfig()
    assert key in str(info.value)
    assert info.value.details["key"] == key


def test_all_zero_weights_are_refused() -> None:
    with pytest.raises(ConfigError, match="critic_weights"):
        CNSConfig(critic_weights={"grounding": 0, "logic": 0, "novelty": 0})


def test_unknown_keys_and_missing_file_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CONFIG_FILE", str(write(tmp_path, "models: {nli_model: typo}\n")))
    with pytest.raises(ConfigError, match="models.nli_model"):
        CNSConfig()
    monkeypatch.setenv("CNS_CONFIG_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="CNS_CONFIG_FILE"):
        CNSConfig()


def test_secrets_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_LLM__API_KEY", "sk-very-secret")
    monkeypatch.setenv("CNS_DATABASE_URL", "postgresql://u:hunter2@db/cns")
    shown = str(redacted_config(CNSConfig()))
    assert "sk-very-secret" not in shown and "hunter2" not in shown
    assert CNSConfig().llm.api_key is not None


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_shipped_profiles_load(profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(__file__).resolve().parents[2] / "config" / f"{profile}.yaml"
    monkeypatch.setenv("CNS_CONFIG_FILE", str(path))
    assert CNSConfig().profile == profile


def test_unsafe_worker_limits_are_refused() -> None:
    with pytest.raises(ConfigError, match="visibility_timeout"):
        CNSConfig(
            celery={
                "visibility_timeout_seconds": 300,
                "task_time_limit_seconds": 300,
                "task_soft_time_limit_seconds": 200,
            }
        )
    with pytest.raises(ConfigError, match="soft_time_limit"):
        CNSConfig(celery={"task_soft_time_limit_seconds": 400, "task_time_limit_seconds": 360})


def test_prod_profile_requires_auth_and_prefetch_one() -> None:
    with pytest.raises(ConfigError, match="auth.enabled"):
        CNSConfig(profile="prod")
    with pytest.raises(ConfigError, match="prefetch"):
        CNSConfig(profile="prod", auth={"enabled": True}, celery={"prefetch_multiplier": 4})
    assert CNSConfig(profile="prod", auth={"enabled": True}).profile == "prod"


def test_passwords_inside_urls_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_BROKER_URL", "redis://:s3cret@redis:6379/0")
    monkeypatch.setenv("CNS_RESULT_BACKEND", "redis://user:pa55@redis:6379/1")
    shown = redacted_config(CNSConfig())
    assert shown["broker_url"] == "redis://:**********@redis:6379/0"
    assert shown["result_backend"] == "redis://user:**********@redis:6379/1"
    assert CNSConfig().broker_url.endswith("s3cret@redis:6379/0")  # the real value is untouched
