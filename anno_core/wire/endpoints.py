"""Route paths, defined once: our REST server routes them, our remote backend formats them.

The templates use ``{name}`` placeholders, which Starlette routes on and ``str.format``
fills in, so the server and the client cannot drift apart. The AnnotationEngine v2 paths
are exactly those caveclient 8.2.1 calls (see ``caveclient/endpoints.py``); the paths marked
"ours" are extensions that only our server answers.
"""

from __future__ import annotations

from urllib.parse import quote

# -- AnnotationEngine (what caveclient calls) --------------------------------------------
ANNOTATION_VERSIONS = "/annotation/api/versions"
V2 = "/annotation/api/v2"
VOLUME = V2 + "/aligned_volume/{aligned_volume}"
TABLES = VOLUME + "/table"  # GET list, POST create, PUT update metadata
TABLE = TABLES + "/{table_name}"  # GET metadata, DELETE table
COUNT = TABLE + "/count"  # GET (ours: ?live_only=true counts valid rows only)
ANNOTATIONS = TABLE + "/annotations"  # GET ?annotation_ids=1,2; POST; PUT; DELETE

# -- schema and info services (what CAVEclient(datastack) calls) ------------------------
SCHEMA_VERSIONS = "/schema/versions"
SCHEMA_TYPES = "/schema/api/v2/type"
SCHEMA_TYPE = "/schema/api/v2/type/{schema_type}"
INFO_VERSIONS = "/info/api/versions"
INFO_DATASTACK = "/info/api/v2/datastack/full/{datastack}"
INFO_VOLUMES = "/info/api/v2/aligned_volume"  # a real CAVE's list of aligned volumes
AUTH_USER_CACHE = "/auth/api/v1/user/cache"  # a real CAVE's "who am I" (middle_auth)

# -- ours --------------------------------------------------------------------------------
VERSION = "/annotation/api/version"  # our server's version; a real CAVE answers 404
HEALTH = "/health"
WHOAMI = V2 + "/whoami"
VOLUMES = V2 + "/aligned_volumes"
USERS = V2 + "/users"
DETAILS = VOLUME + "/details"  # every table's metadata with counts and the caller's rights
FRAME = TABLE + "/frame"  # POST insert / PUT update of a columnar frame (one batch)
UPLOAD = TABLE + "/upload/{key}"  # GET ?op=insert|update: was this batch stored?
QUERY = TABLE + "/query"  # POST: one page of rows as a columnar frame
QUERY_COUNT = TABLE + "/query/count"  # POST: how many rows that query pages through
POINTS = TABLE + "/points"  # GET: the point columns of a table, columnar
HISTORY = TABLE + "/history/{annotation_id}"  # GET: every version of one annotation
TAKEN = TABLE + "/taken"  # GET: whether the name is used (deleted tables included)

# -- Neuroglancer (ours; server/neuroglancer_routes.py, server/viewer.py) ----------------
NG_GRANT = TABLE + "/neuroglancer/grant"  # POST {filters, ttl}: a signed source grant
NG_INFO = TABLE + "/neuroglancer/info"  # POST {filters}: the main source's info
VOLUME_LAYERS = VOLUME + "/neuroglancer_layers"  # GET, PUT (admins): image/segmentation
NG_SOURCE = "/neuroglancer/source/{grant}/{geometry}"  # a precomputed annotation source
NG_MEMORY = "/neuroglancer/memory/{token}/{geometry}"  # rows held in memory (file preview)
NG_OPEN = "/neuroglancer/open/{grant}"  # GET ?color_by=: a page opening the viewer on it
SOURCE_INFO = "/info"  # what a source directory answers: info, cells, by_id
SOURCE_CELL = "/{version}/spatial{level}/{cell}"
SOURCE_BY_ID = "/{version}/by_id/{annotation_id}"
VIEWER = "/v/{token}"  # the viewer of the neuroglancer package (its index.html)
VIEWER_FILE = "/v/{token}/{name}"  # its scripts, styles, wasm
VIEWER_EVENTS = "/events/{token}"  # the Python-integration build's state stream (a stub)
VIEWER_TOKEN = "ng"
"""The viewer's page is ``/v/ng/``: the build shipped with the package needs a /v/<token>/
path."""

IDEMPOTENCY_HEADER = "Idempotency-Key"
"""A write carrying this header is stored at most once: a repeat returns the first answer."""

MAX_ANNOTATIONS = 10_000
"""Most annotations one request may carry (HTTP 413 above), as on a real CAVE server."""


def url(base: str, template: str, **parts: object) -> str:
    """``base`` + ``template`` with each part URL-quoted (a name can never add a segment)."""
    return base.rstrip("/") + template.format(
        **{k: quote(str(v), safe="") for k, v in parts.items()}
    )
