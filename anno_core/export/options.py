"""What an export asks for: format, positions, units, the rows (filters, ids, history) and
the moment (a timestamp or a version). Checked once, here, with one sentence per refusal."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from anno_core.arguments import query_ids
from anno_core.errors import InvalidArgument
from anno_core.moments import parse_moment, wire

FORMATS = {"parquet": ".parquet", "csv": ".csv", "feather": ".feather"}
POSITIONS = ("split", "list")
UNITS = ("voxels", "nm")
MEDIA_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "feather": "application/vnd.apache.arrow.file",
}


@dataclass(frozen=True)
class ExportOptions:
    """One export's choices (the defaults export the live rows as Parquet, in voxels)."""

    format: str = "parquet"
    positions: str = "split"
    units: str = "voxels"
    filters: dict[str, Any] = field(default_factory=dict)
    ids: tuple[int, ...] | None = None
    include_history: bool = False
    timestamp: str | None = None  # ISO text (UTC), as it travels
    version: str | None = None

    @classmethod
    def make(
        cls,
        *,
        format: str = "parquet",
        positions: str = "split",
        units: str = "voxels",
        filters: dict[str, Any] | None = None,
        ids: Any = None,
        include_history: bool = False,
        timestamp: Any = None,
        version: Any = None,
    ) -> ExportOptions:
        """Options from what a caller passed, each checked (a refusal names the choices)."""
        if not isinstance(format, str) or format.lower() not in FORMATS:
            raise InvalidArgument(
                f"Unknown export format {format!r}; choose parquet, csv or feather."
            )
        if positions not in POSITIONS:
            raise InvalidArgument(
                f"positions must be 'split' (x, y, z columns) or 'list' ([x, y, z] in one "
                f"column), not {positions!r}."
            )
        if units not in UNITS:
            raise InvalidArgument(
                f"units must be 'voxels' (as stored) or 'nm' (times the voxel resolution), "
                f"not {units!r}."
            )
        if filters is not None and not isinstance(filters, dict):
            raise InvalidArgument("filters must map column names to values, like {'size': 5}.")
        if not isinstance(include_history, bool):
            raise InvalidArgument("include_history must be True or False.")
        if version is not None and timestamp is not None:
            raise InvalidArgument("Give a timestamp or a version, not both.")
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, str | int)
        ):
            raise InvalidArgument(f"A version is a name or a number, not {version!r}.")
        wanted = query_ids(list(ids)) if ids is not None else None
        return cls(
            format=format.lower(),
            positions=positions,
            units=units,
            filters=dict(filters or {}),
            ids=tuple(wanted) if wanted else None,
            include_history=include_history,
            timestamp=wire(parse_moment(timestamp)),
            version=None if version is None else str(version),
        )

    def with_moment(self, timestamp: Any = None, version: Any = None) -> ExportOptions:
        """The same options at another moment."""
        return replace(
            ExportOptions.make(timestamp=timestamp, version=version),
            **{k: v for k, v in asdict(self).items() if k not in ("timestamp", "version")},
        )

    def to_wire(self) -> dict[str, Any]:
        """The options as JSON values (a request body)."""
        out = asdict(self)
        out["ids"] = list(self.ids) if self.ids else None
        return out

    @classmethod
    def from_wire(cls, body: Any) -> ExportOptions:
        """Options from a request body (unknown keys refused by name)."""
        if not isinstance(body, dict):
            raise InvalidArgument("The export options must be a JSON object.")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(body) - known)
        if unknown:
            raise InvalidArgument(
                f"Unknown export option {', '.join(map(repr, unknown))}; the options are "
                f"{', '.join(sorted(known))}."
            )
        return cls.make(**body)

    def to_query(self) -> dict[str, str]:
        """The options as text query parameters (a download link), defaults left out."""
        out: dict[str, str] = {"format": self.format}
        if self.positions != "split":
            out["positions"] = self.positions
        if self.units != "voxels":
            out["units"] = self.units
        if self.filters:
            out["filters"] = json.dumps(self.filters, sort_keys=True, separators=(",", ":"))
        if self.ids:
            out["ids"] = ",".join(map(str, self.ids))
        if self.include_history:
            out["include_history"] = "true"
        if self.timestamp:
            out["timestamp"] = self.timestamp
        if self.version is not None:
            out["version"] = self.version
        return out

    @classmethod
    def from_query(cls, params: dict[str, str]) -> ExportOptions:
        """Options from the query parameters `to_query` wrote."""
        body: dict[str, Any] = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        if "filters" in body:
            try:
                body["filters"] = json.loads(body["filters"])
            except ValueError as exc:
                raise InvalidArgument("The filters of this link are not valid JSON.") from exc
        if "ids" in body:
            try:
                body["ids"] = [int(i) for i in body["ids"].split(",") if i.strip()]
            except ValueError as exc:
                raise InvalidArgument("The ids of this link are not whole numbers.") from exc
        if "include_history" in body:
            body["include_history"] = body["include_history"] == "true"
        return cls.make(**body)

    def filename(self, table: str) -> str:
        """A file name for the download: the table, the moment and the format."""
        tag = ""
        if self.version is not None:
            tag = f"_v-{self.version}"
        elif self.timestamp:
            tag = "_at-" + self.timestamp[:19].replace(":", "").replace("-", "")
        return f"{table}{tag}{FORMATS[self.format]}"
