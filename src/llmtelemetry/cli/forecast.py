"""`llmtel forecast`: fit the Token Forecaster headless; print the forecast and its backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from llmtelemetry.cli._options import Dsn, Json
from llmtelemetry.cli._output import emit_json, stdout_console
from llmtelemetry.settings import get_settings
from llmtelemetry.warehouse.connection import resolve_target

SHOWN_ROWS = 48


def forecast_command(
    dsn: Dsn = None,
    horizon: Annotated[int, typer.Option(help="Days to forecast (1-90).")] = 14,
    grain: Annotated[str, typer.Option(help="day or hour.")] = "day",
    by: Annotated[str, typer.Option(help="overall, tier or model.")] = "overall",
    out: Annotated[
        Path | None, typer.Option(help="Write the whole forecast to this CSV file.", show_default=False)
    ] = None,
    json_output: Json = False,
) -> None:
    """Forecast token usage and cost from the marts (reading as portfolio_reader), with 80 %
    prediction intervals, and backtest the model against the seasonal-naive baseline.
    """
    # scikit-learn and pandas load in about a second: only for this command, not every llmtel start.
    from llmtelemetry.forecaster import check_parameters, forecast_usage
    from llmtelemetry.forecaster.data import open_reader, reader_target

    check_parameters(grain, horizon, by)
    settings = get_settings()
    configured = settings.reader_password.get_secret_value() if settings.reader_password else None
    reader = reader_target(resolve_target(settings, dsn), settings.home, configured)
    with open_reader(reader) as conn:
        result = forecast_usage(conn, grain, horizon, by)
    if out is not None:
        result.forecast.to_csv(out, index=False)
    if json_output:
        emit_json({"command": "forecast", **({"out": str(out)} if out else {}), **result.summary()})
        return
    console = stdout_console()
    table = Table("ts", "series", "tokens", "80% interval", "cost USD", title=f"{grain}ly forecast, {horizon} days")
    for row in result.forecast.head(SHOWN_ROWS).itertuples():
        table.add_row(
            str(row.ts),
            row.series,
            f"{row.tokens:,.0f}",
            f"{row.tokens_lower:,.0f} to {row.tokens_upper:,.0f}",
            f"{row.cost_usd:,.2f}",
        )
    console.print(table)
    if len(result.forecast) > SHOWN_ROWS:
        console.print(f"… {len(result.forecast) - SHOWN_ROWS} more rows" + ("" if out else " (use --out FILE.csv)"))
    b = result.backtest
    console.print(
        f"backtest ({b.folds} weekly origins, {b.points} points): WAPE {b.wape:.3f} vs seasonal-naive "
        f"{b.baseline_wape:.3f} (x{b.wape / b.baseline_wape:.2f}); MAE {b.mae:,.0f} vs {b.baseline_mae:,.0f}; "
        f"{b.nominal_coverage:.0%} intervals covered {b.interval_coverage:.1%}"
    )
