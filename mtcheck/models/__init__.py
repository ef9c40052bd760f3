"""Neural models behind mtcheck's signals, loaded lazily from packages, paths or the hub.

See :mod:`mtcheck.models.registry` for how a model is found and loaded;
importing this package registers the built-in models but loads nothing.
"""

from mtcheck.models import encoder, hf_translator, lexicon, lm, qe  # noqa: F401  (register the built-in models)
from mtcheck.models.registry import MODELS, ModelSpec, get_model, resolve, set_overrides

__all__ = ["MODELS", "ModelSpec", "get_model", "resolve", "set_overrides"]
