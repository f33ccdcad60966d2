"""llmtel: a realistic LLM-usage analytics warehouse, from synthetic telemetry to dashboards.

The public library API::

    from llmtelemetry import generate, load, transform, verify, up

    dataset = generate(seed=42, rows=100_000)
    for batch in dataset.batches("api_requests"):
        ...                                   # pyarrow.RecordBatch, in time order
    manifest = dataset.write("out/", format="parquet")

    load(dsn, source="out/")                  # or load(dsn, seed=42, rows=100_000): streamed
    transform(dsn)                            # dbt build: staging, star, snowflake
    report = verify(dsn)                      # report.passed, report.failed
    up(dsn, rows=100_000)                     # all of it, skipping what is up to date

`dsn=None` means LLMTEL_DSN, else the embedded PostgreSQL under LLMTEL_HOME.
"""

from importlib import metadata as _metadata

__version__: str
try:
    __version__ = _metadata.version("llmtelemetry")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

# The version is set first: the modules below read it.
from llmtelemetry.errors import (
    CheckFailed,
    DatabaseError,
    DataError,
    LlmtelError,
    OutputError,
    ParameterError,
)
from llmtelemetry.generator import (
    SCHEMAS,
    TABLES,
    Dataset,
    GenerateConfig,
    Manifest,
    fingerprint,
    generate,
    write_dataset,
)
from llmtelemetry.pipeline import Loaded, UpResult, load, transform, up, verify

__all__ = [
    "SCHEMAS",
    "TABLES",
    "CheckFailed",
    "DataError",
    "DatabaseError",
    "Dataset",
    "GenerateConfig",
    "LlmtelError",
    "Loaded",
    "Manifest",
    "OutputError",
    "ParameterError",
    "UpResult",
    "__version__",
    "fingerprint",
    "generate",
    "load",
    "transform",
    "up",
    "verify",
    "write_dataset",
]
