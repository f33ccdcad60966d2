"""llmtel: a realistic LLM-usage analytics warehouse, from synthetic telemetry to dashboards.

The public library API::

    from llmtelemetry import generate, write_dataset, GenerateConfig

    dataset = generate(seed=42, rows=100_000)
    for batch in dataset.batches("api_requests"):
        ...                                   # pyarrow.RecordBatch, in time order
    manifest = dataset.write("out/", format="parquet")
"""

from importlib import metadata as _metadata

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

try:
    __version__ = _metadata.version("llmtelemetry")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = [
    "SCHEMAS",
    "TABLES",
    "CheckFailed",
    "DataError",
    "DatabaseError",
    "Dataset",
    "GenerateConfig",
    "LlmtelError",
    "Manifest",
    "OutputError",
    "ParameterError",
    "__version__",
    "fingerprint",
    "generate",
    "write_dataset",
]
