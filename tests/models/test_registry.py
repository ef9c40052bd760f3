"""Model registry: resolution, overrides and their precedence, availability, lazy once-only loading."""

import pytest
from typer.testing import CliRunner

from mtcheck.cli import app
from mtcheck.errors import ModelUnavailableError, UsageError
from mtcheck.models import registry
from mtcheck.models.registry import ModelSpec, get_model, parse_model_options, register, resolve, set_overrides

LOADS = []


class FakeEncoder(dict):
    def embed(self, texts):
        import numpy as np

        return np.eye(len(texts), 4, dtype="float32")


def fake_loader(spec):
    LOADS.append(spec.name)
    return FakeEncoder(name=spec.name, source=spec.source)


def broken_loader(spec):
    raise OSError("checkpoint is truncated")


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    monkeypatch.setattr(registry, "MODELS", {})
    monkeypatch.setattr(registry, "_overrides", {})
    monkeypatch.setattr(registry, "_config_overrides", {})
    monkeypatch.setattr(registry, "_cache", {})
    monkeypatch.setattr(registry, "_GENERIC_LOADERS", {"encoder": "tests.models.test_registry:fake_loader"})
    monkeypatch.delenv("MTCHECK_MODEL_DIR", raising=False)
    LOADS.clear()
    register(ModelSpec("enc-default", "encoder", "package:json", "tests.models.test_registry:fake_loader",
                       install="pip install enc", default=True))
    register(ModelSpec("enc-other", "encoder", "package:csv", "tests.models.test_registry:fake_loader"))
    register(ModelSpec("lm-missing", "lm", "package:no_such_package_xyz", "tests.models.test_registry:fake_loader",
                       install="pip install --no-deps llm-something", default=True))


def test_default_and_by_name():
    assert resolve("encoder").name == "enc-default"
    assert resolve("enc-other").name == "enc-other"
    with pytest.raises(UsageError, match="unknown model or role"):
        resolve("translatorx")


def test_loads_once_per_process():
    a = get_model("encoder")
    b = get_model("enc-default")
    assert a is b and LOADS == ["enc-default"]


def test_missing_model_message_names_the_install():
    with pytest.raises(ModelUnavailableError) as info:
        get_model("lm")
    assert "lm-missing" in str(info.value) and "pip install --no-deps llm-something" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_broken_checkpoint_is_wrapped():
    register(ModelSpec("bad", "qe", "package:json", "tests.models.test_registry:broken_loader"))
    with pytest.raises(ModelUnavailableError, match="failed to load: OSError: checkpoint is truncated"):
        get_model("bad")


def test_override_precedence(tmp_path, monkeypatch):
    cli_dir, env_root, cfg_dir = tmp_path / "cli", tmp_path / "env", tmp_path / "cfg"
    for d in (cli_dir, env_root / "enc-default", cfg_dir):
        d.mkdir(parents=True)
    # config table only
    set_overrides({}, config={"encoder": str(cfg_dir)})
    assert resolve("encoder").source == f"path:{cfg_dir}"
    # MTCHECK_MODEL_DIR beats the config table
    monkeypatch.setenv("MTCHECK_MODEL_DIR", str(env_root))
    assert resolve("encoder").source == f"path:{env_root / 'enc-default'}"
    # --model beats both, and may name a registered model
    set_overrides({"encoder": str(cli_dir)}, config={"encoder": str(cfg_dir)})
    assert resolve("encoder").source == f"path:{cli_dir}"
    set_overrides({"encoder": "enc-other"})
    assert resolve("encoder").name == "enc-other"


def test_path_override_uses_generic_loader(tmp_path):
    set_overrides({"encoder": str(tmp_path)})
    model = get_model("encoder")
    assert model["source"] == f"path:{tmp_path}"


def test_hub_id_offline_not_cached(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    set_overrides({"encoder": "some-org/not-cached-model"})
    spec = resolve("encoder")
    assert spec.source == "hf:some-org/not-cached-model"
    with pytest.raises(ModelUnavailableError, match="not in the local Hugging Face cache and HF_HUB_OFFLINE is set"):
        get_model("encoder")


@pytest.mark.parametrize("values, expected", [(["encoder=/m/x"], {"encoder": "/m/x"}),
                                              (["lm = a/b "], {"lm": "a/b"})])
def test_parse_model_options(values, expected):
    assert parse_model_options(values) == expected


@pytest.mark.parametrize("values", [["encoder"], ["=x"], ["encoder="]])
def test_parse_model_options_rejects(values):
    with pytest.raises(UsageError, match="ROLE_OR_NAME=PATH_OR_ID"):
        parse_model_options(values)


def test_unknown_override_key():
    with pytest.raises(UsageError, match="neither a role"):
        set_overrides({"vocoder": "x"})


def test_models_cli_list_and_check():
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if line.startswith("lm-missing"))
    assert " NO " in row and "pip install --no-deps llm-something" in row
    checked = runner.invoke(app, ["models", "check"])
    assert checked.exit_code == 0
    assert "lm-missing: skipped" in checked.output
    assert "enc-default (encoder): load" in checked.output and "embedded 2 sentences, dim 4, cos 0.000" in checked.output
    failed = runner.invoke(app, ["models", "check", "lm"])
    assert failed.exit_code == 2 and "pip install --no-deps llm-something" in failed.stderr


def test_translator_override_to_an_openai_endpoint():
    register(ModelSpec("tm-default", "translator", "package:json", "tests.models.test_registry:fake_loader",
                       default=True))
    set_overrides({"translator": "openai:http://127.0.0.1:9/v1#qwen2.5:7b"})
    spec = resolve("translator")
    assert (spec.kind, spec.location) == ("url", "openai:http://127.0.0.1:9/v1#qwen2.5:7b")
    assert registry.availability(spec)[0]
    model = get_model("translator")     # building the client does not connect
    assert (model.base_url, model.model) == ("http://127.0.0.1:9/v1", "qwen2.5:7b")
    set_overrides({"encoder": "openai:http://127.0.0.1:9/v1#m"})
    with pytest.raises(UsageError, match="translator role only"):
        resolve("encoder")
