"""The ingest suite a second time: DataFrames, staged annotations, CSV uploads and the
engine-vs-marshmallow property test, all through the remote backend to our server process.

Left out by name: the tests that upload into the hard-coded aligned volume "local" (each
remote test works in a volume of its own).
"""

from __future__ import annotations

from tests.ingest import test_bad_files, test_frames_staged, test_ingest_csv, test_property_engine
from tests.server.rerun import collect

EXCLUDED = {
    "test_upload_sends_each_batch_once": "uploads into volume 'local'",
    "test_upload_again_after_a_failure_finishes_the_job": "uploads into volume 'local'",
}

collect(
    globals(), (test_frames_staged, test_ingest_csv, test_bad_files, test_property_engine), EXCLUDED
)
