"""What a run's configuration may hold: the type and range of every hyper-parameter. Chapter 07 (training
runs).

``check(config, known, label)`` is applied to the flags of ``minigan train`` (``--width 0``, ``--set
width=abc``, ``--lr nan``) and to every ``config.json`` read back (``--resume``, ``sample``, ``eval``), so a
bad value stops the command with one line naming where it came from, instead of surfacing later as a
traceback or, worse, as a silently different run. Ints must be ints (not 3.5, not true, not "3"), floats
finite numbers, ranges as below; a key the run's dataset does not know is an error too (a typo in a
hand-edited file would otherwise be ignored). A key of a dataset's defaults that is not listed here must
have the JSON type of its default value.
"""

from __future__ import annotations

import math

from ..gan import losses

# what a run has when neither its dataset's defaults nor a flag say otherwise
GENERIC_DEFAULTS = {
    "seed": 0,
    "device": "cpu",
    "loss": "nonsaturating",
    "penalty": None,
    "gamma": None,
    "r1_every": 1,  # lazy R1: the penalty on every r1_every-th D step only, weighted r1_every times
    "k": 1,
    "lr_decay_steps": 0,
    "sample_every": 0,
    "ckpt_every": 500,
    "log_every": 10,
    "unrolled": 0,  # look-ahead D steps of G's loss (chapter 10; 0: none)
    "unrolled_exact": False,
    "unrolled_lr": None,  # the exact look-ahead's SGD step (None: the D learning rate)
    "world_size": 1,  # ranks of a data-parallel run (chapter 16): set by the launch, not by a flag
    "sync_bn": True,  # data-parallel: batch norm over every rank's shard (SyncBatchNorm)
}
# int hyper-parameters and their smallest allowed value
INT_MIN = {
    "steps": 1, "batch_size": 1, "k": 1, "z_dim": 1, "hidden": 1, "depth": 1, "width": 1, "image_size": 1,
    "ckpt_every": 1, "log_every": 1, "seed": 0, "lr_decay_steps": 0, "sample_every": 0, "labeled": 1,
    "unrolled": 0, "pack": 1, "lr_decay_start": 0, "pool_size": 0, "w_dim": 1, "mapping_layers": 1,
    "r1_every": 1, "mbstd_group": 1, "world_size": 1, "d_average_steps": 0,
}  # fmt: skip
# float hyper-parameters: (smallest allowed value, whether it must be strictly larger, None allowed)
FLOAT_MIN = {
    "lr": (0.0, True, False),
    "gamma": (0.0, False, True),
    "cls_weight": (0.0, False, False),
    "cls_fake_weight": (0.0, False, False),
    "unrolled_lr": (0.0, True, True),
    "lr_final": (0.0, False, False),
    "lambda_l1": (0.0, False, False),
    "lambda_cycle": (0.0, False, False),
    "lambda_identity": (0.0, False, False),
    "style_mixing": (0.0, False, False),
    "ema_kimg": (0.0, True, False),
    "g_ema_kimg": (0.0, False, False),
    "rgb_init": (0.0, False, False),
}
# float hyper-parameters that are probabilities: at most 1 as well
AT_MOST_ONE = ("style_mixing",)  # fmt: skip
PENALTIES = (None, "r1", "wgan-gp")
TEXT = ("data", "dataset", "device", "split", "model")  # plain strings
OPTIONAL_TEXT = ("data_dir", "photos")  # a string or null


class ConfigError(ValueError):
    """A configuration value of the wrong type or out of range (the message says which and where)."""


def _is_int(v) -> bool:
    return type(v) is int


def _is_number(v) -> bool:
    return type(v) in (int, float)


def problem(key: str, value, defaults: dict) -> str | None:
    """Why ``value`` is not a valid ``key`` ("must be an integer >= 1"), or None if it is."""
    if key in INT_MIN:
        lo = INT_MIN[key]
        return None if _is_int(value) and value >= lo else f"must be an integer >= {lo}"
    if key in FLOAT_MIN:
        lo, strict, optional = FLOAT_MIN[key]
        if value is None and optional:
            return None
        ok = _is_number(value) and math.isfinite(value) and (value > lo if strict else value >= lo)
        if key in AT_MOST_ONE:
            return None if ok and value <= 1 else f"must be in [{lo:g}, 1]"
        return None if ok else f"must be {'>' if strict else '>='} {lo:g} and finite"
    if key == "betas":
        ok = isinstance(value, (list, tuple)) and len(value) == 2
        ok = ok and all(_is_number(b) and math.isfinite(b) and 0 <= b < 1 for b in value)
        return None if ok else "must be two finite numbers in [0, 1)"
    if key == "loss":
        return None if value in losses.LOSSES else f"must be one of {', '.join(losses.LOSSES)}"
    if key == "penalty":
        return None if value in PENALTIES else "must be null, 'r1' or 'wgan-gp'"
    if key in TEXT:
        return None if isinstance(value, str) and value else "must be a non-empty string"
    if key in OPTIONAL_TEXT:
        return None if value is None or (isinstance(value, str) and value) else "must be a string or null"
    default = defaults.get(key)
    if default is None:
        return None
    if type(default) is float:
        return None if _is_number(value) and math.isfinite(value) else "must be a finite number"
    kind = {bool: "true or false", int: "an integer", str: "a string", list: "a list", dict: "an object"}
    if type(default) in kind and type(value) is not type(default):
        return f"must be {kind[type(default)]}"
    return None


def check(config: dict, known: dict, label) -> dict:
    """``config`` with int values of float keys made floats, after checking every entry.

    ``known``: every key a run of this dataset has, with its default value; ``label(key)``:
    how the message names where a value came from ("--lr", "--set width", "runs/x/config.json: width").
    Raises ``ConfigError`` for the first bad entry."""
    for key, value in config.items():
        if key not in known:
            names = ", ".join(sorted(known))
            data = config.get("data", known.get("data"))
            raise ConfigError(f"{label(key)}: not a setting of dataset {data} (those are: {names})")
        why = problem(key, value, known)
        if why is not None:
            raise ConfigError(f"{label(key)} {why}, got {value!r}")
    out = dict(config)
    for key in FLOAT_MIN:
        if _is_int(out.get(key)):
            out[key] = float(out[key])
    if isinstance(out.get("betas"), (list, tuple)):
        out["betas"] = [float(b) for b in out["betas"]]
    return out
