"""How a value inside one projection reaches the projection's result: OpenLineage's
transformation types of one step, read from the sqlglot expression tree.

:func:`position_transformations` walks up from a column (or a scalar subquery) to the
projection. On the way an aggregate makes the value an AGGREGATION, any other operation a
TRANSFORMATION, a hash or a count masks it; a CASE/IF condition, a window's PARTITION BY /
ORDER BY, an aggregate's FILTER (WHERE ...) or ORDER BY make the input INDIRECT for that
column (CONDITIONAL, WINDOW, FILTER, SORT), and nothing above changes that. COALESCE (and
NVL, IFNULL) both chooses and passes its arguments: CONDITIONAL and TRANSFORMATION, as
OpenLineage's Spark integration reports it.
"""

from __future__ import annotations

from sqlglot import exp

from ol_bridge.sql.models import (
    AGGREGATION,
    CONDITIONAL,
    DIRECT,
    FILTER,
    IDENTITY,
    INDIRECT,
    SORT,
    TRANSFORMATION,
    WINDOW,
    Transformation,
    strongest,
)

# Functions whose result does not reveal their input: hashes, fingerprints, encryption,
# sketches and counts (OpenLineage's Spark integration counts hashes and COUNT as masking).
_MASKING_CLASSES: tuple[type[exp.Expr], ...] = (
    exp.MD5,
    exp.MD5Digest,
    exp.MD5NumberLower64,
    exp.MD5NumberUpper64,
    exp.SHA,
    exp.SHA1Digest,
    exp.SHA2,
    exp.SHA2Digest,
    exp.StandardHash,
    exp.FarmFingerprint,
    exp.CityHash64,
    exp.HashAgg,
    exp.Minhash,
    exp.Hll,
    exp.Encrypt,
    exp.EncryptRaw,
    exp.Count,
    exp.CountIf,
    exp.ApproxDistinct,
    exp.RegrCount,
)
# The same for functions sqlglot keeps by name (lower-cased), across dialects.
_MASKING_NAMES = frozenset(
    {
        "hash",
        "hash64",
        "hashtext",
        "hashtextextended",
        "digest",
        "hmac",
        "crc32",
        "xxhash32",
        "xxhash64",
        "xxh3_64",
        "murmurhash3_32",
        "murmur_hash3_32",
        "murmurhash3_64",
        "siphash64",
        "sip_hash",
        "cityhash64",
        "farmhash64",
        "fnv_hash",
        "md5_hex",
        "md5_number",
        "md5_number_lower",
        "md5_number_upper",
        "sha1_hex",
        "sha2_hex",
        "sha256",
        "sha384",
        "sha512",
        "mask",
        "mask_hash",
        "mask_first_n",
        "mask_last_n",
        "mask_show_first_n",
        "mask_show_last_n",
        "hll",
        "hll_accumulate",
        "approx_count_distinct",
        "encrypt",
        "aes_encrypt",
        "pgp_sym_encrypt",
    }
)
# Window functions that return an input value of another row unchanged: not aggregates.
_VALUE_WINDOW_FUNCTIONS: tuple[type[exp.Expr], ...] = (
    exp.Lag,
    exp.Lead,
    exp.FirstValue,
    exp.LastValue,
    exp.NthValue,
)
# Nodes that hand their operand on unchanged.
_PASS_THROUGH: tuple[type[exp.Expr], ...] = (exp.Alias, exp.Paren)


def is_masking(node: exp.Expr) -> bool:
    """Whether a function's result hides its input's values."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in _MASKING_NAMES
    return isinstance(node, _MASKING_CLASSES)


def position_transformations(
    node: exp.Expr, root: exp.Expr, *, at_least: str = IDENTITY
) -> tuple[Transformation, ...]:
    """How the value of ``node`` reaches the value of ``root``, an ancestor (or itself).

    ``at_least`` is the DIRECT subtype ``node`` already has (a scalar subquery's value is
    never the bare column). Returns one DIRECT transformation and/or INDIRECT ones.
    """
    subtype: str | None = at_least
    masking = False
    indirect: set[str] = set()
    child = node
    while child is not root and subtype is not None:
        parent = child.parent
        if parent is None:
            break
        step = _step(parent, child)
        if step is _DIRECT_STEP:
            subtype = strongest(subtype, _direct_subtype(parent))
            masking = masking or is_masking(parent)
        elif step is _CONDITIONAL_AND_DIRECT:
            indirect.add(CONDITIONAL)
            subtype = strongest(subtype, TRANSFORMATION)
        elif step is _STRUCT_FIELD or step is _PASS:
            pass
        else:
            indirect.add(step)
            subtype = None  # an INDIRECT step decides; what is above does not change it
        child = parent
    direct = () if subtype is None else (Transformation(DIRECT, subtype, masking),)
    return (*direct, *(Transformation(INDIRECT, kind) for kind in sorted(indirect)))


# Kinds of step from a child node to its parent, besides an INDIRECT subtype.
_DIRECT_STEP = "direct"
_CONDITIONAL_AND_DIRECT = "conditional+direct"
_STRUCT_FIELD = "field"
_PASS = "pass"


def _step(parent: exp.Expr, child: exp.Expr) -> str:
    key = child.arg_key or ""
    if isinstance(parent, _PASS_THROUGH):
        return _PASS
    if isinstance(parent, exp.Dot) and key == "this":
        return _STRUCT_FIELD  # ``widget.asset.id``: still the column, a field of it
    if isinstance(parent, exp.If):  # also each WHEN ... THEN of a CASE
        return CONDITIONAL if key == "this" else _DIRECT_STEP
    if isinstance(parent, exp.Case):
        return CONDITIONAL if key == "this" else _DIRECT_STEP  # CASE x WHEN ...
    if isinstance(parent, exp.Coalesce):
        return _CONDITIONAL_AND_DIRECT
    if isinstance(parent, exp.Nullif):
        return CONDITIONAL if key == "expression" else _DIRECT_STEP
    if isinstance(parent, exp.Window):
        return WINDOW if key in ("partition_by", "order", "spec") else _DIRECT_STEP
    if isinstance(parent, exp.WindowSpec):
        return WINDOW
    if isinstance(parent, exp.Filter):  # aggregate FILTER (WHERE ...)
        return FILTER if key == "expression" else _DIRECT_STEP
    if isinstance(parent, exp.Order):
        return _order_step(parent, key)
    return _DIRECT_STEP


def _order_step(order: exp.Order, key: str) -> str:
    """ORDER BY inside a window, an aggregate, or WITHIN GROUP."""
    if key != "expressions":
        return _DIRECT_STEP  # ``array_agg(x ORDER BY y)``: x is the aggregated value
    holder = order.parent
    if isinstance(holder, exp.Window):
        return WINDOW
    if isinstance(holder, exp.WithinGroup):
        return _DIRECT_STEP  # ``percentile_cont(.5) WITHIN GROUP (ORDER BY x)`` reads x
    return SORT


def _direct_subtype(parent: exp.Expr) -> str:
    if isinstance(parent, exp.WithinGroup):
        return AGGREGATION
    if isinstance(parent, exp.AggFunc) and not isinstance(parent, _VALUE_WINDOW_FUNCTIONS):
        return AGGREGATION
    return TRANSFORMATION
