"""Same seed and rows => identical tables, whatever the workers, chunking or file format."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmtelemetry import GenerateConfig, Manifest, fingerprint, generate
from llmtelemetry.generator.writers import read_table
from tests.conftest import materialise


def test_workers_and_chunk_rows_do_not_change_contents(default_tables: dict[str, pa.Table]) -> None:
    other = materialise(GenerateConfig(seed=42, rows=500_000), workers=2, chunk_rows=65_536)
    for name, table in default_tables.items():
        assert other[name].equals(table), name  # contents, not just fingerprints
        assert fingerprint(other[name]) == fingerprint(table)


@pytest.mark.parametrize(("workers", "chunk_rows"), [(1, 1), (3, 50_000), (2, 16_384), (4, 1_000_000)])
def test_odd_chunkings_agree(workers: int, chunk_rows: int) -> None:
    config = GenerateConfig(seed=9, rows=70_001, users=321)
    reference = materialise(config)["api_requests"]
    assert materialise(config, workers, chunk_rows)["api_requests"].equals(reference)


def test_written_files_are_byte_identical(tmp_path: Path, written_dataset: tuple[Path, Manifest]) -> None:
    first_dir, first = written_dataset
    second = generate(seed=42, rows=500_000).write(tmp_path / "b", workers=3, chunk_rows=40_000)
    assert second.fingerprints() == first.fingerprints()
    for name, entry in first.tables.items():
        assert second.tables[name].file_sha256 == entry.file_sha256, name
        assert (tmp_path / "b" / entry.file).read_bytes() == (first_dir / entry.file).read_bytes()


def test_parquet_row_groups_are_fixed_and_time_ordered(written_dataset: tuple[Path, Manifest]) -> None:
    directory, _ = written_dataset
    meta = pq.ParquetFile(directory / "api_requests.parquet").metadata
    assert meta.num_rows == 500_000
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes[:-1] == [131_072] * (len(sizes) - 1)
    column = meta.schema.names.index("requested_at")
    bounds = [
        (meta.row_group(i).column(column).statistics.min, meta.row_group(i).column(column).statistics.max)
        for i in range(meta.num_row_groups)
    ]
    assert all(bounds[i][1] <= bounds[i + 1][0] for i in range(len(bounds) - 1))


def test_csv_and_parquet_hold_the_same_rows(tmp_path: Path) -> None:
    config = GenerateConfig(seed=3, rows=30_000, users=200)
    parquet = generate(config).write(tmp_path / "p")
    csv = generate(config).write(tmp_path / "c", format="csv")
    assert csv.fingerprints() == parquet.fingerprints()
    for name, entry in csv.tables.items():
        schema = generate(config).schema(name)
        from_csv = read_table(tmp_path / "c" / entry.file, schema)
        from_parquet = read_table(tmp_path / "p" / parquet.tables[name].file, schema)
        assert from_csv.equals(from_parquet), name
        assert fingerprint(from_csv) == entry.sha256


def test_fingerprint_ignores_batching_but_sees_every_value() -> None:
    table = materialise(GenerateConfig(seed=1, rows=5_000, users=50))["api_requests"]
    rebatched = pa.Table.from_batches(table.to_batches(max_chunksize=777))
    assert fingerprint(rebatched) == fingerprint(table)
    latency = table.column("latency_ms").to_pylist()
    latency[4_321] += 1
    changed = table.set_column(table.schema.get_field_index("latency_ms"), "latency_ms", pa.array(latency, pa.int32()))
    assert fingerprint(changed) != fingerprint(table)


def test_seeds_and_sizes_change_the_data() -> None:
    a = materialise(GenerateConfig(seed=1, rows=2_000, users=100))
    b = materialise(GenerateConfig(seed=2, rows=2_000, users=100))
    assert fingerprint(a["api_requests"]) != fingerprint(b["api_requests"])
    assert fingerprint(a["users"]) != fingerprint(b["users"])


def test_default_period_is_fixed() -> None:
    dates = generate(rows=10).table("dates")
    assert dates.column("date").to_pylist()[0].isoformat() == "2025-01-01"
    assert dates.column("date").to_pylist()[-1].isoformat() == "2025-06-30"
