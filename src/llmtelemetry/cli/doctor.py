"""`llmtel doctor`: check every dependency and connection; one line per check with a fix."""

from __future__ import annotations

from llmtelemetry.cli._options import Dsn, Json
from llmtelemetry.cli._output import emit_json, stdout_console
from llmtelemetry.doctor import diagnose
from llmtelemetry.errors import CheckFailed
from llmtelemetry.settings import get_settings


def doctor_command(dsn: Dsn = None, json_output: Json = False) -> None:
    """Check Python and packages, the database (embedded or --dsn / LLMTEL_DSN), the dbt project,
    and the optional parts (Streamlit, Chromium, Docker Compose). Exits 1 if a needed part is missing.
    """
    findings = diagnose(get_settings(), dsn)
    missing = [f for f in findings if f.needed and not f.ok]
    if json_output:
        emit_json(
            {
                "command": "doctor",
                "ok": not missing,
                "checks": [
                    {"name": f.name, "ok": f.ok, "needed": f.needed, "detail": f.detail, "fix": f.fix} for f in findings
                ],
            }
        )
    else:
        out = stdout_console()
        for finding in findings:
            mark = "ok" if finding.ok else ("FAIL" if finding.needed else "warn")
            out.print(f"{mark:>4}  {finding.name:<22} {finding.detail}")
            if not finding.ok:
                out.print(f"      fix: {finding.fix}")
    if missing:
        raise CheckFailed(
            f"{len(missing)} needed part(s) missing: {', '.join(f.name for f in missing)}",
            fix="apply the fix lines above",
        )
