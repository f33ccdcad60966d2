"""Golden fingerprints of `--seed 42 --rows 10000`: any change to the data must be on purpose.

If a change to the generator or the catalogue is intended, regenerate with
`python -m tests.unit.test_golden` and commit the new values with the change.
Columns drawn by Faker depend on Faker's version; they are compared only under the Faker
version that produced the golden values.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

from llmtelemetry import generate

GOLDEN = Path(__file__).with_name("golden_seed42_rows10000.json")
FAKER_COLUMNS = {"full_name", "email", "company_name", "company_domain"}


def current() -> dict[str, object]:
    dataset = generate(seed=42, rows=10_000)
    from llmtelemetry.generator.fingerprint import TableHasher

    tables: dict[str, dict[str, object]] = {}
    for name in dataset.tables:
        hasher = TableHasher(dataset.schema(name))
        for batch in dataset.batches(name):
            hasher.update(batch)
        tables[name] = {"rows": hasher.rows, "sha256": hasher.hexdigest(), "columns": hasher.column_digests()}
    return {"faker": metadata.version("faker"), "tables": tables}


def test_golden_fingerprints() -> None:
    golden = json.loads(GOLDEN.read_text())
    now = current()
    same_faker = golden["faker"] == now["faker"]
    for name, expected in golden["tables"].items():
        got = now["tables"][name]  # type: ignore[index]
        assert got["rows"] == expected["rows"], name
        for column, digest in expected["columns"].items():
            if column in FAKER_COLUMNS and not same_faker:
                continue
            assert got["columns"][column] == digest, f"{name}.{column} changed"
        if same_faker or name != "users":
            assert got["sha256"] == expected["sha256"], name


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(current(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)
