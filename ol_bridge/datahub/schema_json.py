"""DataHub aspects <-> the JSON GMS and DataHub Lite store, compiled once per aspect schema.

acryl-datahub turns an aspect into that JSON with ``pre_json_transform(aspect.to_obj())``:
avrogen walks the Avro schema generically for every value (and ``to_obj`` validates the whole
tree first), then the result is walked again to rename union keys and drop nulls. Here each
record schema is compiled once into small functions that do the same in one pass:

* :func:`aspect_to_json` -- a typed aspect (as the converter builds them) to GMS JSON;
* :func:`normalize_json` -- GMS JSON that did not come from a typed object (an aspect a PATCH
  was applied to) to exactly what ``pre_json_transform(cls.from_obj(post_json_transform(x))
  .to_obj())`` gives: schema order, defaults filled, unions wrapped as avrogen wraps them,
  nulls dropped; checking on the way what ``validate()`` would reject (a missing required
  field, a value of the wrong type), so a bad patch fails with a clear error.

Union members are chosen as avrogen chooses them (a record by its schema name; otherwise the
last member a value validates against, which only matters for unions avrogen cannot tell
apart). ``tests/datahub/test_aspect_json.py`` checks :func:`aspect_to_json` equals
acryl-datahub's own serialization on every aspect the converter makes for the corpora,
``tests/datahub/test_lite_bulk.py`` that every patched aspect the Lite sink stores for them
equals what Lite's own ``write`` stores, and ``tests/datahub/test_schema_json.py`` the errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ol_bridge._compat.datahub import Aspect

_Convert = Callable[[Any], Any]
_AVRO_NS = "com.linkedin.pegasus2avro."
_GMS_NS = "com.linkedin."
_NUMBER = (int, float)
#: Avro types with a full name (what avrogen names a wrapped union member by).
_NAMED_TYPES = frozenset(("record", "enum", "fixed", "error"))


class SchemaJsonError(ValueError):
    """A value does not fit its aspect's schema."""


def _gms_name(member: Any) -> str:
    """The key avrogen wraps a union value in, after ``pre_json_transform``."""
    if member.type in _NAMED_TYPES:
        name = str(member.fullname).lstrip(".")
        return _GMS_NS + name[len(_AVRO_NS) :] if name.startswith(_AVRO_NS) else name
    return str(member.type)


def _unambiguous(union: Any) -> bool:
    """avrogen's ``_is_unambiguous_union``: wrap the value unless this is false."""
    members = union.schemas
    if any(m.type == "enum" for m in members):
        return len(members) == 2 and any(m.type == "null" for m in members)
    return sum(1 for m in members if m.type != "null") <= 1


def _fit_check(member: Any) -> Callable[[Any], bool]:
    """Whether a value (JSON or typed) validates against union ``member``, compiled once
    (avro schema properties are slow to read); shallow for containers and records, which
    this module only meets in unions whose other members are not containers or records."""
    kind = member.type
    if kind == "null":
        return lambda value: value is None
    if kind == "string":
        return lambda value: isinstance(value, str)
    if kind == "boolean":
        return lambda value: isinstance(value, bool)
    if kind in ("int", "long"):
        return lambda value: isinstance(value, int)
    if kind in ("float", "double"):
        return lambda value: isinstance(value, _NUMBER)
    if kind == "bytes":
        return lambda value: isinstance(value, bytes | str)
    if kind == "enum":
        symbols = frozenset(member.symbols)
        return lambda value: isinstance(value, str) and value in symbols
    if kind == "array":
        return lambda value: isinstance(value, list)
    return lambda value: isinstance(value, Mapping)  # map, record


# --- typed aspect -> GMS JSON --------------------------------------------------------------


def _to_json(node: Any, in_array: bool = False) -> _Convert:
    kind = node.type
    if kind in ("string", "boolean", "int", "long", "float", "double", "null", "enum", "fixed"):
        return _identity
    if kind == "bytes":
        return _bytes_to_text
    if kind == "array":
        item = _to_json(node.items, in_array=True)
        return lambda value: [item(v) for v in value]
    if kind == "map":
        values = _to_json(node.values)
        return lambda value: {k: values(v) for k, v in value.items()}
    if kind == "union":
        return _union_to_json(node, in_array)
    if kind == "record":
        return _cached_to_json(node)
    raise SchemaJsonError(f"unsupported Avro type {kind!r}")


def _identity(value: Any) -> Any:
    return value


def _bytes_to_text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _record_to_json(node: Any) -> _Convert:
    fields: list[tuple[str, _Convert]] = []

    def convert(value: Any) -> Any:
        inner = value._inner_dict
        out = {}
        for name, field_convert in fields:
            item = inner.get(name)
            if item is not None:
                converted = field_convert(item)
                if converted is not None:
                    out[name] = converted
        return out

    # Fields are compiled after ``convert`` exists, so recursive records terminate.
    _RECORD_CACHE[id(node)] = convert
    fields.extend((f.name, _cached_to_json(f.type)) for f in node.fields)
    return convert


_RECORD_CACHE: dict[int, _Convert] = {}


def _cached_to_json(node: Any) -> _Convert:
    if node.type != "record":
        return _to_json(node)
    cached = _RECORD_CACHE.get(id(node))
    return cached if cached is not None else _record_to_json(node)


def _union_to_json(node: Any, in_array: bool) -> _Convert:
    members = node.schemas
    by_name = {
        str(m.fullname).lstrip("."): (m, _cached_to_json(m)) for m in members if m.type == "record"
    }
    others = [
        (str(m.type), _gms_name(m), _fit_check(m), _cached_to_json(m))
        for m in members
        if m.type != "record"
    ]
    records = {name: (_gms_name(m), convert) for name, (m, convert) in by_name.items()}
    wrap = in_array or not _unambiguous(node)

    def convert(value: Any) -> Any:
        if value is None:
            return None
        schema = getattr(type(value), "RECORD_SCHEMA", None)
        chosen = records.get(str(schema.fullname).lstrip(".")) if schema is not None else None
        if chosen is None:
            found = None
            for kind, name, fits, member_convert in others:  # the last it fits, as avrogen
                if fits(value):
                    found = (name, member_convert) if kind != "null" else ("", _identity)
                    if kind == "boolean":
                        break
            if found is None:
                raise SchemaJsonError(f"{value!r} fits no member of {_gms_name(node)}")
            chosen = found
        name, member_convert = chosen
        converted = member_convert(value)
        if converted is None:
            return None
        return {name: converted} if wrap else converted

    return convert


_ASPECT_CONVERTERS: dict[str, _Convert] = {}


def aspect_to_json(aspect: Aspect) -> Any:
    """``pre_json_transform(aspect.to_obj())`` in one compiled pass (no validation: the
    aspect was built with acryl-datahub's typed classes)."""
    name = type(aspect).__qualname__
    convert = _ASPECT_CONVERTERS.get(name)
    if convert is None:
        convert = _ASPECT_CONVERTERS[name] = _cached_to_json(aspect.RECORD_SCHEMA)
    return convert(aspect)


# --- GMS JSON -> normalized GMS JSON ---------------------------------------------------------


def _normalizer(node: Any, path: str, in_array: bool = False) -> _Convert:
    kind = node.type
    if kind in ("string", "boolean", "int", "long", "float", "double", "enum", "bytes"):
        fits = _fit_check(node)

        def primitive(value: Any) -> Any:
            if not fits(value):
                raise SchemaJsonError(f"{path}: {value!r} is not a valid {kind}")
            return value

        return primitive
    if kind == "null":
        return _identity
    if kind == "array":
        item = _normalizer(node.items, f"{path}[]", in_array=True)

        def array(value: Any) -> Any:
            if not isinstance(value, list):
                raise SchemaJsonError(f"{path}: {value!r} is not an array")
            return [item(v) for v in value]

        return array
    if kind == "map":
        values = _normalizer(node.values, f"{path}{{}}")

        def map_(value: Any) -> Any:
            if not isinstance(value, Mapping):
                raise SchemaJsonError(f"{path}: {value!r} is not an object")
            return {k: values(v) for k, v in value.items() if v is not None}

        return map_
    if kind == "union":
        return _union_normalizer(node, path, in_array)
    if kind == "record":
        return _record_normalizer(node, path)
    raise SchemaJsonError(f"unsupported Avro type {kind!r}")


_NORMALIZER_CACHE: dict[int, _Convert] = {}


def _record_normalizer(node: Any, path: str) -> _Convert:
    if id(node) in _NORMALIZER_CACHE:
        return _NORMALIZER_CACHE[id(node)]
    fields: list[tuple[str, _Convert, Any, bool]] = []

    def normalize(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise SchemaJsonError(f"{path}: {value!r} is not an object")
        out = {}
        for name, field_normalize, default, required in fields:
            item = value.get(name)
            if item is None:
                if required:
                    raise SchemaJsonError(f"{path}.{name} is required")
                item = default
                if item is None:
                    continue
            normalized = field_normalize(item)
            if normalized is not None:
                out[name] = normalized
        return out

    _NORMALIZER_CACHE[id(node)] = normalize
    for field in node.fields:
        default = field.default if field.has_default else None
        nullable = field.type.type == "union" and any(m.type == "null" for m in field.type.schemas)
        required = not field.has_default and not nullable
        fields.append(
            (field.name, _normalizer(field.type, f"{path}.{field.name}"), default, required)
        )
    return normalize


def _union_normalizer(node: Any, path: str, in_array: bool) -> _Convert:
    # (member kind, GMS name, fits, normalize) per member, read once
    members = [
        (str(m.type), _gms_name(m), _fit_check(m), _normalizer(m, path)) for m in node.schemas
    ]
    by_name = {member[1]: member for member in members}
    wrap = in_array or not _unambiguous(node)

    def last_fit(value: Any) -> Any:
        """The member avrogen writes a non-record value as: the last one it fits."""
        found = None
        for member in members:
            if member[0] != "record" and member[2](value):
                found = member
                if member[0] == "boolean":
                    break
        return found

    def normalize(value: Any) -> Any:
        if value is None:
            return None
        read = None
        if isinstance(value, Mapping) and len(value) == 1:
            (key,) = value
            if key in by_name:  # wrapped as avrogen wraps it
                read = by_name[key]
                value = value[key]
        if read is None:  # the first member it fits, as avrogen reads it
            read = next((m for m in members if m[2](value)), None)
        if read is None:
            raise SchemaJsonError(f"{path}: {value!r} fits no member of the union")
        kind, name, _, member_normalize = read
        if kind == "null":
            return None
        normalized = member_normalize(value)
        if not wrap:
            return normalized
        if kind != "record":  # written back as the last member it fits
            name = (last_fit(normalized) or read)[1]
        return {name: normalized}

    return normalize


_ASPECT_NORMALIZERS: dict[str, _Convert] = {}


def normalize_json(aspect_class: type[Aspect], value: Any) -> Any:
    """The GMS JSON ``aspect_class`` stores for ``value`` (see the module docstring);
    raises :class:`SchemaJsonError` for a value the aspect's schema rejects."""
    name = aspect_class.__qualname__
    normalize = _ASPECT_NORMALIZERS.get(name)
    if normalize is None:
        schema = aspect_class.RECORD_SCHEMA
        normalize = _ASPECT_NORMALIZERS[name] = _record_normalizer(schema, name)
    return normalize(value)
