"""The schema catalogue over emannotationschemas: names, flat field specs, JSON schema.

A schema's marshmallow fields are read once and turned into `FieldSpec`s: one per flat
column as users see it (``pt_position``, ``size``, ``target_id``). Points are stored as three
numeric columns (``pt_position_x/_y/_z``). ``supervoxel_id``/``root_id`` are filled by a
segmentation service, never by users, so they are not part of what we store.

Importing this module is light: emannotationschemas (which imports geoalchemy2 and so
SQLAlchemy) and marshmallow are loaded on the first call that reads a schema (`schema_spec`,
`schema_names`, `json_schema`, `marshmallow_class`), so the HTTP client can be imported and
built without them. Validating rows needs a spec, and so loads them then.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from anno_core.errors import SchemaNotFound

if TYPE_CHECKING:
    import marshmallow as mm

SERVER_FILLED = {"supervoxel_id", "root_id"}
AXES = ("x", "y", "z")

# kind: point | float | int | bool | str | ref (target id) | user (filled from the acting user)
KINDS = ("point", "float", "int", "bool", "str", "ref", "user")


@dataclass(frozen=True)
class FieldSpec:
    """One flat field of a schema, as users see it in a CSV or DataFrame."""

    column: str
    path: tuple[str, ...]
    kind: str
    required: bool
    nullable: bool
    choices: tuple[Any, ...] | None = None
    description: str = ""
    system: bool = False  # validated but not stored (the schema's own ``valid`` flag)

    @property
    def storage_columns(self) -> tuple[str, ...]:
        """SQL column names this field is stored in."""
        if self.kind == "point":
            return tuple(f"{self.column}_{a}" for a in AXES)
        return (self.column,)

    @property
    def type_label(self) -> str:
        """A plain word for the field's type, for forms and templates."""
        labels = {
            "point": "position [x, y, z]",
            "float": "number",
            "int": "whole number",
            "bool": "true/false",
            "str": "text",
            "ref": "id of an annotation in the reference table",
            "user": "user id (filled in automatically)",
        }
        label = labels[self.kind]
        if self.choices:
            label += " (one of: " + ", ".join(map(str, self.choices)) + ")"
        return label


@dataclass(frozen=True)
class SchemaSpec:
    """Everything the engine and the ingest need to know about one schema."""

    name: str
    fields: tuple[FieldSpec, ...]
    is_reference: bool
    description: str = ""
    vocabularies: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def data_fields(self) -> tuple[FieldSpec, ...]:
        """Fields stored in the table (everything except the schema's own ``valid``)."""
        return tuple(f for f in self.fields if not f.system)

    @property
    def point_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.kind == "point")

    @property
    def user_fields(self) -> tuple[FieldSpec, ...]:
        """Fields a user supplies (not auto-filled, not system)."""
        return tuple(f for f in self.fields if not f.system and f.kind != "user")

    def get(self, column: str) -> FieldSpec | None:
        for f in self.fields:
            if f.column == column:
                return f
        return None

    @property
    def storage_columns(self) -> list[str]:
        return [c for f in self.data_fields for c in f.storage_columns]


@functools.cache
def _libs() -> SimpleNamespace:
    """marshmallow and emannotationschemas, imported on first need (see the module doc)."""
    import marshmallow
    from emannotationschemas import get_schema, get_types
    from emannotationschemas.errors import UnknownAnnotationTypeException
    from emannotationschemas.schemas import base
    from emannotationschemas.schemas.cell_type_local import allowed_types

    return SimpleNamespace(
        mm=marshmallow,
        emb=base,
        get_schema=get_schema,
        get_types=get_types,
        unknown=UnknownAnnotationTypeException,
        allowed_types=allowed_types,
    )


def _kind_of(fld: mm.fields.Field) -> str:
    mm, emb = _libs().mm, _libs().emb
    if isinstance(fld, emb.AutoUserIdField):
        return "user"
    if isinstance(fld, emb.ReferenceTableField):
        return "ref"
    if isinstance(fld, emb.PostGISField):
        return "point"
    if isinstance(fld, mm.fields.Boolean):
        return "bool"
    if isinstance(fld, mm.fields.Integer):
        return "int"
    if isinstance(fld, mm.fields.Number):
        return "float"
    if isinstance(fld, mm.fields.String):
        return "str"
    raise TypeError(f"unsupported field type {type(fld).__name__}")


def _choices(fld: mm.fields.Field) -> tuple[Any, ...] | None:
    mm = _libs().mm
    validators = fld.validate if isinstance(fld.validate, list | tuple) else [fld.validate]
    for v in validators:
        if isinstance(v, mm.validate.OneOf):
            return tuple(v.choices)
    return None


def _description(fld: mm.fields.Field) -> str:
    meta = getattr(fld, "metadata", {}) or {}
    return str(meta.get("description", "") or "")


def _walk(schema: mm.Schema, prefix: tuple[str, ...], parent_required: bool) -> list[FieldSpec]:
    mm = _libs().mm
    specs: list[FieldSpec] = []
    for name, fld in schema.fields.items():
        path = (*prefix, name)
        required = bool(fld.required) and parent_required
        if isinstance(fld, mm.fields.Nested):
            nested = fld.schema
            pos = nested.fields.get("position")
            if pos is None:
                raise TypeError(f"nested field {name} without a position")
            specs.append(
                FieldSpec(
                    column=f"{'_'.join(path)}_position",
                    path=(*path, "position"),
                    kind="point",
                    required=required,
                    nullable=not fld.required,
                    description=_description(fld),
                )
            )
            for sub_name, sub in nested.fields.items():
                if sub_name == "position" or sub_name in SERVER_FILLED:
                    continue
                specs.append(
                    FieldSpec(
                        column="_".join((*path, sub_name)),
                        path=(*path, sub_name),
                        kind=_kind_of(sub),
                        required=required and bool(sub.required),
                        nullable=bool(sub.allow_none) or not fld.required,
                        choices=_choices(sub),
                        description=_description(sub),
                    )
                )
            continue
        if not prefix and name in SERVER_FILLED:
            continue
        kind = _kind_of(fld)
        specs.append(
            FieldSpec(
                column="_".join(path),
                path=path,
                kind=kind,
                required=required,
                nullable=bool(fld.allow_none),
                choices=_choices(fld),
                description=_description(fld),
                system=(not prefix and name == "valid"),
            )
        )
    return specs


@functools.cache
def schema_spec(name: str) -> SchemaSpec:
    """The flat spec of schema ``name``; raises SchemaNotFound for an unknown name."""
    cls = marshmallow_class(name)
    instance = cls(context={"postgis": True})
    # marshmallow keeps fields in no fixed order: fix one (target, points, the rest, valid).
    specs = sorted(
        _walk(instance, (), True),
        key=lambda f: (f.system, f.kind != "ref", f.kind != "point", f.column),
    )
    vocab: dict[str, tuple[str, ...]] = {}
    if name == "cell_type_local":
        vocab = {k: tuple(v) for k, v in _libs().allowed_types.items()}
    return SchemaSpec(
        name=name,
        fields=tuple(specs),
        is_reference=issubclass(cls, _libs().emb.ReferenceAnnotation),
        description=(cls.__doc__ or "").strip(),
        vocabularies=vocab,
    )


def marshmallow_class(name: str) -> type[mm.Schema]:
    """The emannotationschemas class for ``name`` (the oracle in tests)."""
    if not isinstance(name, str) or name not in schema_names():
        raise SchemaNotFound(
            f"There is no schema called {name!r}; choose one of the "
            f"{len(schema_names())} schemas emannotationschemas defines, such as 'synapse' "
            "or 'cell_type_local'."
        )
    try:
        return _libs().get_schema(name)
    except _libs().unknown as exc:  # pragma: no cover - guarded above
        raise SchemaNotFound(f"There is no schema called {name!r}.") from exc


@functools.lru_cache(maxsize=1)
def schema_names() -> tuple[str, ...]:
    """Every schema name emannotationschemas defines, in its order."""
    return tuple(_libs().get_types())


@functools.cache
def json_schema(name: str) -> dict[str, Any]:
    """The draft-07 JSON schema of ``name``, exactly as the CAVE schema service serves it."""
    from marshmallow_jsonschema import JSONSchema

    return JSONSchema().dump(marshmallow_class(name)())
