"""The model registry: what each neural model is, where it comes from, how it loads.

Every model mtcheck can use has a :class:`ModelSpec` in :data:`MODELS`: a
name, a role (``encoder``, ``lm``, ``bilingual-lm``, ``translator``, ``qe``,
``lexicon``), a source (an installed package that ships the weights, a local
directory, or a Hugging Face id), its licence and size, and a loader.

Loading is lazy and happens once per process (:func:`get_model`). Which model
serves a role can be overridden, in increasing precedence, by a ``[models]``
table in the project config, by ``MTCHECK_MODEL_DIR`` (a directory holding one
sub-directory per model name), and by ``--model ROLE_OR_NAME=PATH_OR_ID`` on the
command line (:func:`set_overrides`). A model that is not available raises
:class:`~mtcheck.errors.ModelUnavailableError` naming the package to install
or the path that is missing — never a hub traceback. With ``HF_HUB_OFFLINE=1``
(or no network) a Hugging Face id is only looked up in the local cache.

Heavy libraries (torch, transformers) are imported by the loaders only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from mtcheck.errors import ModelUnavailableError, UsageError

ROLES = ("encoder", "lm", "bilingual-lm", "translator", "qe", "lexicon")


@dataclass(frozen=True)
class ModelSpec:
    """A model mtcheck knows how to load.

    Attributes:
        name: Registry key, also used in signatures (``model:e5-small-q4``).
        role: One of :data:`ROLES`.
        source: ``package:<import name>``, ``path:<dir>`` or ``hf:<id>``.
        loader: ``module:function`` taking the spec and returning the model.
        install: What a user runs to make it available (shown when missing).
        licence: Licence of the weights.
        size_mb: Approximate size on disk.
        description: One line for ``mtcheck models list``.
        default: Whether it serves its role when nothing is overridden.
    """

    name: str
    role: str
    source: str
    loader: str
    install: str = ""
    licence: str = "unknown"
    size_mb: float | None = None
    description: str = ""
    default: bool = False

    @property
    def kind(self) -> str:
        return self.source.split(":", 1)[0]

    @property
    def location(self) -> str:
        return self.source.split(":", 1)[1]


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS` (validating role and source)."""
    if spec.role not in ROLES:
        raise ValueError(f"model {spec.name}: unknown role {spec.role!r}")
    if spec.kind not in ("package", "path", "hf"):
        raise ValueError(f"model {spec.name}: source must be package:, path: or hf:, got {spec.source!r}")
    MODELS[spec.name] = spec
    return spec


_overrides: dict[str, str] = {}         # from the command line (--model)
_config_overrides: dict[str, str] = {}  # from the project config's [models] table
_cache: dict[str, Any] = {}
_lock = threading.RLock()


def set_overrides(pairs: Mapping[str, str], *, config: Mapping[str, str] | None = None) -> None:
    """Override models by role or name: ``{"encoder": "/models/labse"}``.

    Args:
        pairs: From the command line; they win over everything.
        config: From the project config's ``[models]`` table; below
            ``MTCHECK_MODEL_DIR``.

    A value is a registered model name, a local directory, a Hugging Face id, or (for the
    translator) ``openai:URL#MODEL``, an OpenAI-compatible server.
    """
    for source, table in (("--model", pairs), ("[models]", config or {})):
        for key, value in table.items():
            if key not in ROLES and key not in MODELS:
                raise UsageError(f"{source} {key}=…: {key!r} is neither a role ({', '.join(ROLES)}) "
                                 f"nor a model name ({', '.join(MODELS) or 'none registered'})")
            if not isinstance(value, str) or not value:
                raise UsageError(f"{source} {key}: expected a model name, directory or hub id, got {value!r}")
    _overrides.clear()
    _overrides.update(pairs)
    _config_overrides.clear()
    _config_overrides.update(config or {})
    _cache.clear()


def parse_model_options(values: list[str]) -> dict[str, str]:
    """``["encoder=PATH"]`` → ``{"encoder": "PATH"}`` with a clear error for a bad pair."""
    out = {}
    for v in values:
        key, sep, target = v.partition("=")
        if not sep or not key.strip() or not target.strip():
            raise UsageError(f"--model takes ROLE_OR_NAME=PATH_OR_ID, got {v!r}")
        out[key.strip()] = target.strip()
    return out


def default_for(role: str) -> ModelSpec:
    for spec in MODELS.values():
        if spec.role == role and spec.default:
            return spec
    raise ModelUnavailableError(f"no default model is registered for role {role!r}")


def _spec_for_target(base: ModelSpec, target: str) -> ModelSpec:
    """The spec a user override points at: a registered name, a directory, or a hub id."""
    if target in MODELS:
        return MODELS[target]
    if target.startswith("openai:"):
        # An OpenAI-compatible server (openai:URL#MODEL); reachability is found out at first use.
        if base.role != "translator":
            raise UsageError(f"{target}: an OpenAI-compatible endpoint can serve the translator role only, "
                             f"not {base.role}")
        return replace(base, name=f"translator:{target}", source=f"url:{target}",
                       loader="mtcheck.models.http_translator:load_openai", licence="that of the served model",
                       size_mb=None, install=f"a server answering at {target[len('openai:'):]}", default=False)
    if Path(target).expanduser().exists():
        return replace(base, name=f"{base.role}:{Path(target).name}", source=f"path:{Path(target).expanduser()}",
                       loader=_generic_loader(base.role), install=f"the directory {target}", default=False)
    return replace(base, name=f"{base.role}:{target}", source=f"hf:{target}", loader=_generic_loader(base.role),
                   install=f"download {target} into the Hugging Face cache, or pass a local directory", default=False)


def _generic_loader(role: str) -> str:
    return _GENERIC_LOADERS.get(role, "")


#: Loaders for models given by path or hub id, per role (filled in by the role modules).
_GENERIC_LOADERS: dict[str, str] = {}


def resolve(role_or_name: str) -> ModelSpec:
    """The spec that serves ``role_or_name`` after overrides.

    Precedence: ``--model`` > ``MTCHECK_MODEL_DIR/<name>`` > the project
    config's ``[models]`` table (both given to :func:`set_overrides`) > the
    registry default. An override names a role or a model; a role override
    applies to whichever model would serve the role.
    """
    if role_or_name in MODELS:
        base = MODELS[role_or_name]
    elif role_or_name in ROLES:
        base = default_for(role_or_name)
    else:
        raise UsageError(f"unknown model or role {role_or_name!r}; known models: {', '.join(MODELS)}")
    for key in (base.name, base.role):
        if key in _overrides:
            return _spec_for_target(base, _overrides[key])
    model_dir = os.environ.get("MTCHECK_MODEL_DIR")
    if model_dir:
        candidate = Path(model_dir) / base.name
        if candidate.is_dir():
            return _spec_for_target(base, str(candidate))
    for key in (base.name, base.role):
        if key in _config_overrides:
            return _spec_for_target(base, _config_overrides[key])
    return base


def availability(spec: ModelSpec) -> tuple[bool, str]:
    """Whether ``spec`` can load here without a network, and from where (or why not)."""
    if spec.kind == "package":
        found = importlib.util.find_spec(spec.location) is not None
        return (found, f"package {spec.location}" if found else f"not installed: {spec.install}")
    if spec.kind == "url":
        return True, f"endpoint {spec.location} (reached at first use)"
    if spec.kind == "path":
        p = Path(spec.location)
        return (p.is_dir() or p.is_file(), str(p) if p.exists() else f"missing path {p}")
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False, "huggingface_hub is not installed (pip install transformers)"
    hit = try_to_load_from_cache(spec.location, "config.json")
    if isinstance(hit, str):
        return True, f"Hugging Face cache ({Path(hit).parent})"
    if hub_offline():
        return False, f"{spec.location} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
    return True, f"Hugging Face hub id {spec.location} (downloaded on first use)"


def hub_offline() -> bool:
    """Whether the user asked for no hub access (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE``)."""
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def smoke_test(spec: ModelSpec, model: Any) -> str:
    """Run one real inference appropriate to the model's role; return a short description."""
    if spec.role == "encoder":
        vecs = model.embed(["阿里巴巴发布了财报。", "Alibaba released its results."])
        return f"embedded 2 sentences, dim {vecs.shape[1]}, cos {float(vecs[0] @ vecs[1]):.3f}"
    if spec.role == "lm":
        (score,) = model.score(["The company reported strong quarterly revenue."])
        return f"scored 1 sentence, {len(score.tokens)} tokens, mean log-prob {score.mean:.3f}"
    if spec.role == "lexicon":
        return f"落幕 → {'; '.join(model.glosses('落幕')[:3]) or '(no gloss)'}"
    if hasattr(model, "smoke"):
        return str(model.smoke())
    return "loaded (no smoke test for this role)"


def get_model(role_or_name: str) -> Any:
    """Load (once per process) and return the model serving ``role_or_name``.

    Raises:
        ModelUnavailableError: the model cannot be loaded here; the message
            says what to install or which path is missing.
    """
    return _load(resolve(role_or_name))


def get_registered(name: str) -> Any:
    """Load (once per process) the registered model ``name`` itself, ignoring overrides.

    For models built on top of another one (the QE model's frozen base
    encoder): ``--model encoder=…`` must change the encoder of the embedding
    metrics, not the base under weights that were trained on it.
    """
    if name not in MODELS:
        raise ModelUnavailableError(f"model {name!r} is not registered; known models: {', '.join(MODELS)}")
    return _load(MODELS[name])


def _load(spec: ModelSpec) -> Any:
    with _lock:
        if spec.name in _cache:
            return _cache[spec.name]
        ok, where = availability(spec)
        if not ok:
            raise ModelUnavailableError(f"model {spec.name} ({spec.role}) is not available: {where}")
        loader = _import_loader(spec)
        try:
            model = loader(spec)
        except ModelUnavailableError:
            raise
        except Exception as exc:  # a broken download or an incompatible checkpoint
            raise ModelUnavailableError(
                f"model {spec.name} ({spec.role}) from {spec.source} failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        _cache[spec.name] = model
        return model


def _import_loader(spec: ModelSpec) -> Callable[[ModelSpec], Any]:
    module, _, func = spec.loader.partition(":")
    if not module or not func:
        raise ModelUnavailableError(f"model {spec.name}: no loader for role {spec.role} from {spec.source}")
    return getattr(importlib.import_module(module), func)


def clear_cache() -> None:
    """Forget loaded models (tests)."""
    _cache.clear()
