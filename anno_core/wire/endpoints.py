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
QUERY_ESTIMATE = TABLE + "/query/estimate"  # POST: the same, exact when cheap, else estimated
POINTS = TABLE + "/points"  # GET ?limit=N: a sample of the table's points, columnar
HISTORY = TABLE + "/history/{annotation_id}"  # GET: every version of one annotation
TAKEN = TABLE + "/taken"  # GET: whether the name is used (deleted tables included)
UPLOAD_RECORD = TABLE + "/upload_record"  # POST {op, batches}: what an upload stored
UPLOADS = TABLE + "/uploads"  # GET ?limit: the latest uploads, with their live rows
UNDO_UPLOAD = TABLE + "/uploads/{upload}/undo"  # POST: delete an upload's live rows
DELETE_MATCHING = TABLE + "/query/delete"  # POST {filters, ids, expected}: delete them
RESTORE = TABLE + "/restore"  # POST {ids}: new versions of deleted annotations
SUMMARY = TABLE + "/summary"  # GET ?top&bins: top text values, number histograms
EXTENT = VOLUME + "/extent"  # GET: the volume's bounds and its points' extent (nm)
BOUNDS = VOLUME + "/bounds"  # PUT {lower, upper}: an admin sets the bounds (nm)

ACTIVITY = VOLUME + "/activity"  # GET ?table&user&kind&since&until&limit&before: audit page

VERSIONS = VOLUME + "/versions"  # GET list, POST create (named moments of the volume)
VERSION_NAMED = VERSIONS + "/{version}"  # GET one (name or number), DELETE (admins)
EXPORT = TABLE + "/export"  # POST options (bearer) or GET a signed link: the file, streamed
EXPORT_LINK = TABLE + "/export/link"  # POST options: a signed, expiring download link
EXPORT_PROGRESS = VOLUME + "/exports/{link_id}"  # GET: how far a link's download has got

# -- MaterializationEngine (what caveclient's client.materialize calls; API 3) -------------
MAT_API_VERSIONS = "/materialize/api/versions"
MAT_VERSION = "/materialize/version"
M2 = "/materialize/api/v2/datastack/{datastack}"
M3 = "/materialize/api/v3/datastack/{datastack}"
MAT_VERSIONS = M3 + "/versions"
MAT_VERSIONS_META = M3 + "/metadata"
MAT_VERSION_META = M3 + "/version/{version}"
MAT_TABLES = M2 + "/version/{version}/tables"
MAT_TABLES_META = M3 + "/version/{version}/tables/metadata"
MAT_TABLE_META = M3 + "/version/{version}/table/{table_name}/metadata"
MAT_COUNT = M2 + "/version/{version}/table/{table_name}/count"
MAT_QUERY = M3 + "/version/{version}/table/{table_name}/query"
MAT_JOIN = M3 + "/version/{version}/query"
MAT_UNIQUE = M3 + "/table/{table_name}/unique_string_values"

# -- the chunkedgraph routes caveclient's live_query calls (tables with no root ids) -------
SEG_API_VERSIONS = "/segmentation/api/versions"
SEG_VERSION = "/segmentation/api/version"
SEG_TABLE = "/segmentation/api/v1/table/{pcg_table}"
SEG_IS_LATEST = SEG_TABLE + "/is_latest_roots"
SEG_ROOTS = SEG_TABLE + "/roots_binary"
SEG_ROOT_TIMESTAMPS = SEG_TABLE + "/root_timestamps"
SEG_PAST_IDS = SEG_TABLE + "/past_id_mapping"

EXPORT_HEADER = "X-Anno-Export"
"""An export's summary (rows, moment, notice) as JSON, sent before its first byte."""

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
