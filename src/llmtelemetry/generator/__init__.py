"""Synthetic LLM API telemetry: pure numpy draws, Arrow batches, Parquet/CSV writers."""

from llmtelemetry.generator.config import BLOCK_ROWS, GenerateConfig
from llmtelemetry.generator.dataset import Dataset, generate, write_dataset
from llmtelemetry.generator.fingerprint import fingerprint
from llmtelemetry.generator.manifest import Manifest, TableEntry
from llmtelemetry.generator.schema import SCHEMAS, TABLES

__all__ = [
    "BLOCK_ROWS",
    "SCHEMAS",
    "TABLES",
    "Dataset",
    "GenerateConfig",
    "Manifest",
    "TableEntry",
    "fingerprint",
    "generate",
    "write_dataset",
]
