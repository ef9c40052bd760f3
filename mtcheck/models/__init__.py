"""Neural models behind mtcheck's signals, loaded lazily from packages, paths or the hub.

See :mod:`mtcheck.models.registry` for how a model is found and loaded;
importing this package registers the built-in models but loads nothing.
"""

from mtcheck.models import encoder, lexicon, lm, qe  # noqa: F401  (register e5-small-q4, cc-cedict, smollm2-135m, qe-e5-small)
from mtcheck.models.registry import MODELS, ModelSpec, get_model, resolve, set_overrides

__all__ = ["MODELS", "ModelSpec", "get_model", "resolve", "set_overrides"]
