"""`subops` — the command line. Thin: every command calls a module that tests call directly."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from pipelines.settings import PROJECT_ROOT, Settings, get_settings

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="subops",
    help=(
        "subops — analytics and operational intelligence for subscription businesses.\n\n"
        "Extracts in a landing folder → DuckDB warehouse (write-audit-publish) → dbt marts → "
        "dashboard.\n\n"
        "Examples:\n\n"
        "  subops demo                      # sample company, warehouse, dashboard\n\n"
        "  subops generate --scale 0.2      # write a synthetic company to data/landing\n\n"
        "  subops build                     # load new extracts, build, test, publish\n\n"
        "  subops status                    # what the published warehouse holds\n\n"
        "  subops tables                    # the marts, what each holds, row counts\n\n"
        "  subops describe fct_mrr_monthly  # a mart's columns, types and meaning\n\n"
        "  subops sql 'select * from mrr_bridge_monthly'"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)


class _State:
    debug: bool = False


STATE = _State()


class SubopsError(RuntimeError):
    """A failure the user can act on: printed as one line, exit code 1."""


LandingOpt = Annotated[
    Path | None,
    typer.Option("--landing", help="Landing folder of extracts (env SUBOPS_LANDING_DIR)."),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse-dir", help="Warehouse folder (env SUBOPS_WAREHOUSE_DIR)."),
]


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show tracebacks.", envvar="SUBOPS_DEBUG"),
    ] = False,
) -> None:
    STATE.debug = debug


def _settings(landing: Path | None = None, warehouse_dir: Path | None = None) -> Settings:
    return get_settings(landing_dir=landing, warehouse_dir=warehouse_dir)


def _dagster_env() -> dict[str, str]:
    """DAGSTER_HOME under data/ with telemetry off, so nothing is written to ~/.dagster; its
    storage in PostgreSQL when SUBOPS_DAGSTER_PG_URL is set (see _postgres_env)."""
    from pipelines.defs.instance import ensure_dagster_home

    home = Path(os.environ.get("DAGSTER_HOME", PROJECT_ROOT / "data" / "dagster_home"))
    pg = _postgres_env()
    ensure_dagster_home(home, postgres=bool(pg))
    return {**os.environ, **pg, "DAGSTER_HOME": str(home)}


def _postgres_env() -> dict[str, str]:
    """SUBOPS_DAGSTER_PG_URL for Dagster's own config (it reads the URL from the environment,
    so it is never written to dagster.yaml), also when it comes from subops.toml."""
    from pipelines.defs.instance import PG_URL_ENV

    url = get_settings().dagster_pg_url
    if url is None or not url.get_secret_value():
        return {}
    try:
        import dagster_postgres  # noqa: F401
    except ImportError as exc:
        raise SubopsError(
            f"{PG_URL_ENV} is set but dagster-postgres is not installed: install the extra "
            "(uv sync --extra postgres, or pip install 'subops[postgres]'), or unset it"
        ) from exc
    return {PG_URL_ENV: url.get_secret_value()}


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops generate                                 # scale 0.2 into data/landing\n\n"
        "  subops generate --out /tmp/acme --scale 1 --seed 7 --bad-rows 0.01\n\n"
        "  subops generate --start 2024-01-01 --end 2026-10-31 --daily 3 --format parquet\n\n"
        "  subops generate --out /tmp/acme --shape stripe --shape salesforce --shape zendesk"
        "   # also as the systems' exports: /tmp/acme.stripe/ ...; then `subops map`"
    )
)
def generate(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Landing folder (default: landing dir)."),
    ] = None,
    scale: Annotated[float, typer.Option(help="1 ≈ 1,000 accounts; linear.", min=0.001)] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed: same arguments → same files.")] = 42,
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="First day.")] = (
        dt.datetime(2023, 1, 1)
    ),
    end: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Date of the initial extract.")
    ] = dt.datetime(2026, 10, 31),
    daily: Annotated[int, typer.Option(help="Further daily extracts after --end.", min=0)] = 0,
    bad_rows: Annotated[
        float, typer.Option("--bad-rows", help="Fraction of rows to corrupt (contract tests).")
    ] = 0.0,
    exception_rate: Annotated[
        float, typer.Option("--exception-rate", help="Share of billing lines mis-billed.")
    ] = 0.02,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    shape: Annotated[
        list[str] | None,
        typer.Option(
            "--shape",
            help="Also express the company as this system's export (stripe, salesforce, "
            "zendesk) in <out>.<system>/, leaving out the tables it covers (repeatable).",
        ),
    ] = None,
    landing: LandingOpt = None,
) -> None:
    """Write a synthetic subscription company (all 17 contract tables) to a landing folder.

    A truth manifest (injected bad rows, billing exceptions) is written beside it: <out>.truth/.
    With --shape, the tables a system covers are written in that system's shape instead
    (<out>.stripe/<extract_id>/invoice.csv ...): `subops map` brings them back.
    """
    from pipelines.generate import generate as run_generate
    from pipelines.mapping.writers import SYSTEMS

    if fmt not in ("csv", "parquet"):
        raise SubopsError(f"--format must be csv or parquet, not {fmt!r}")
    shapes = list(dict.fromkeys(shape or []))
    unknown = [s for s in shapes if s not in SYSTEMS]
    if unknown:
        raise SubopsError(f"--shape {unknown[0]!r}: one of {', '.join(SYSTEMS)}")
    if shapes and fmt != "csv":
        raise SubopsError("--shape writes from a CSV company: leave --format csv")
    target = out or _settings(landing).landing_dir
    with console.status(f"Generating a company at scale {scale} into {target} …") as status:
        result = run_generate(
            target,
            scale=scale,
            seed=seed,
            start=start.date(),
            end=end.date(),
            daily=daily,
            bad_rows=bad_rows,
            fmt=fmt,  # type: ignore[arg-type]
            exception_rate=exception_rate,
            progress=lambda msg: status.update(msg),
        )
    table = Table(title=f"Generated {target}", show_footer=True)
    table.add_column("table", footer="total")
    table.add_column("rows", justify="right", footer=f"{sum(result.row_counts.values()):,}")
    for name, n in sorted(result.row_counts.items()):
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(f"truth manifest: {result.truth_dir}")
    if shapes:
        from pipelines.mapping.writers import write_system

        for system in shapes:
            dest = target.parent / f"{target.name}.{system}"
            write_system(target, system, dest)
            console.print(
                f"{system} export: {dest}  — bring it back with: subops map --mapping {system} "
                f"--from {dest} --to {target}"
            )


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops build                          # incremental: only new extract files\n\n"
        "  subops build --full-refresh           # rebuild from every landing file\n\n"
        "  subops build --landing /srv/extracts --as-of 2026-10-31\n\n"
        "  subops build --confirm-deletions      # accept a snapshot that deletes many rows"
    )
)
def build(
    landing: LandingOpt = None,
    warehouse_dir: WarehouseOpt = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Start from an empty warehouse.")
    ] = False,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date (default: latest extract)."),
    ] = None,
    confirm_deletions: Annotated[
        bool,
        typer.Option(
            "--confirm-deletions",
            help="Publish even if a new snapshot deletes more than the allowed share of its table.",
        ),
    ] = False,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Engine dbt builds on: duckdb, postgres or spark (env SUBOPS_TARGET; "
            "docs/engines.md).",
        ),
    ] = None,
) -> None:
    """Load new extracts, build and test the warehouse; publish only if every check passes.

    On failure: the summary with one `why:` line (cause and fix), exit code 1; the detail is in
    <warehouse>/logs/<run id>.log, every run is a line of <warehouse>/logs/runs.jsonl.
    """
    from pipelines.run.build import run_build
    from pipelines.warehouse.failures import explain_exception

    settings = _settings(landing, warehouse_dir)
    if confirm_deletions:
        settings = settings.model_copy(update={"confirm_deletions": True})
    if target:
        from pipelines.targets import TARGETS

        if target not in TARGETS:
            raise SubopsError(f"--target {target}: not a target — use one of {', '.join(TARGETS)}")
        settings = settings.model_copy(update={"target": target})
    os.environ.update(_dagster_env())
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("Building the warehouse …", total=None)
            result = run_build(
                settings,
                full_refresh=full_refresh,
                as_of=as_of.date() if as_of else None,
                progress=lambda msg: bar.update(task, description=msg),
                on_step=lambda done, total, step: bar.update(
                    task, completed=done - 1, total=total, description=f"Running {step} …"
                ),
            )
    except (OSError, RuntimeError) as exc:  # before the run: lock, folders, landing
        if STATE.debug:
            raise
        raise SubopsError(f"build not started: {explain_exception(exc, settings)}") from exc
    _print_build_summary(result)
    if not result.up_to_date and not result.published:
        raise typer.Exit(1)  # the summary's `why:` line said it; the detail is in the log


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops bench                       # scales 1, 10 and 100 (make bench)\n\n"
        "  subops bench --quick               # scale 0.1, each measurement once\n\n"
        "  subops bench --scales 0.1,1 --repeats 3"
    )
)
def bench(
    scales: Annotated[
        str | None,
        typer.Option(help="Company scales, comma-separated (default 1,10,100; --quick: 0.1)."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Scale 0.1, every measurement once (make test).")
    ] = False,
    repeats: Annotated[
        int | None,
        typer.Option(min=1, help="Runs of a measurement under 10 s, median kept (default 5)."),
    ] = None,
    page_repeats: Annotated[
        int | None, typer.Option(min=1, help="Replays of each page's queries (default 20).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Generated companies (default data/bench/cache).")
    ] = None,
    work_dir: Annotated[
        Path | None, typer.Option(help="Landing copies and warehouses (default data/bench/work).")
    ] = None,
    results_dir: Annotated[
        Path | None, typer.Option(help="Where the report goes (default bench/results).")
    ] = None,
    keep_work: Annotated[
        bool, typer.Option("--keep-work", help="Keep each scale's warehouses afterwards.")
    ] = False,
) -> None:
    """Benchmark the build on generated companies: floor, full build and its steps, peak RSS,
    nightly build, warehouse size, dashboard pages, and a pandas peer's time and MRR.

    Writes <results>/<date>-<host>.json and .md and prints the table (docs/benchmark.md).
    """
    from bench.measure import BenchError
    from bench.report import failed, measured, step_table, summary_table, write_results
    from bench.run import BenchOptions, run_bench

    options = BenchOptions()
    options = options.as_quick() if quick else options
    try:
        chosen = tuple(float(s) for s in scales.split(",")) if scales else options.scales
    except ValueError as exc:
        raise SubopsError(f"--scales takes numbers separated by commas, not {scales!r}") from exc
    update = {
        "scales": chosen,
        "repeats": repeats or options.repeats,
        "page_repeats": page_repeats or options.page_repeats,
        "cache_dir": cache_dir or options.cache_dir,
        "work_dir": work_dir or options.work_dir,
        "results_dir": results_dir or options.results_dir,
        "keep_work": keep_work,
    }
    options = dataclasses.replace(options, **update)
    try:
        report = run_bench(options, say=lambda msg: console.print(msg, style="dim"))
    except BenchError as exc:
        raise SubopsError(str(exc)) from exc
    console.print(summary_table(report, console.width))
    for scale in measured(report):
        console.print(step_table(scale))
    for scale in failed(report):
        console.print(f"scale {scale['scale']:g} not measured: {scale['error']}", style="red")
    json_path, md_path = write_results(report, options.results_dir)
    console.print(f"report: {json_path} and {md_path.name}")
    if failed(report):
        raise typer.Exit(1)


def _print_build_summary(result: object) -> None:
    """Print the build summary the BuildResult provides (files, rows, quarantine, checks)."""
    summary = getattr(result, "summary_lines", None)
    lines = summary() if callable(summary) else [str(result)]
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command(
    epilog="Examples:\n\n  subops dashboard\n\n  subops dashboard --port 8600 --warehouse-dir wh",
)
def dashboard(
    warehouse_dir: WarehouseOpt = None,
    port: Annotated[int | None, typer.Option(help="Port to serve on (default 8501).")] = None,
) -> None:
    """Serve the executive dashboard (read-only over the published warehouse)."""
    settings = _settings(warehouse_dir=warehouse_dir)
    _serve_dashboard(settings, port or settings.dashboard_port)


def _serve_dashboard(settings: Settings, port: int) -> None:
    entry = PROJECT_ROOT / "dashboards" / "streamlit_app.py"
    env = {**os.environ, "SUBOPS_WAREHOUSE_DIR": str(settings.warehouse_dir.resolve())}
    console.print(f"[bold green]Dashboard:[/] http://localhost:{port}  (Ctrl+C to stop)")
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(entry),
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    try:
        subprocess.run(cmd, env=env, check=True)
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as exc:
        raise SubopsError(f"the dashboard stopped with exit code {exc.returncode}") from exc


@app.command(
    epilog="Examples:\n\n  subops demo\n\n  subops demo --scale 0.5 --no-serve   # build only"
)
def demo(
    scale: Annotated[float, typer.Option(help="Size of the sample company.")] = 0.5,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the dashboard.")] = True,
    landing: LandingOpt = None,
    warehouse_dir: WarehouseOpt = None,
) -> None:
    """Generate a sample company (if the landing folder is empty), build, serve the dashboard."""
    settings = _settings(landing, warehouse_dir)
    if not any(settings.landing_dir.glob("*/*/*.*")):
        generate(out=settings.landing_dir, scale=scale)
    else:
        console.print(f"Using the extracts already in {settings.landing_dir}")
    build(landing=settings.landing_dir, warehouse_dir=settings.warehouse_dir)
    if serve:
        _serve_dashboard(settings, settings.dashboard_port)


@app.command(epilog="Examples:\n\n  subops dev\n\n  subops dev --port 3001")
def dev(port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000) -> None:
    """Start the Dagster UI on localhost with this code location (assets, checks, schedule)."""
    from pipelines.dbt_project import ensure_manifest

    env = _dagster_env()
    ensure_manifest()  # a dbt parse error as one line here, not a trace in the UI
    console.print(f"[bold green]Dagster UI:[/] http://localhost:{port}")
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions", "-p", str(port)]
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(cmd, env=env, check=True, cwd=PROJECT_ROOT)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops serve                              # settings from SUBOPS_* / subops.toml\n\n"
        "  SUBOPS_SCHEDULE_ENABLED=true SUBOPS_SENSOR_ENABLED=true subops serve\n\n"
        "  subops serve --host 0.0.0.0 --dagster-port 3000 --dashboard-port 8501"
    )
)
def serve(
    landing: LandingOpt = None,
    warehouse_dir: WarehouseOpt = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Listen address (env SUBOPS_SERVE_HOST).")
    ] = None,
    dagster_port: Annotated[
        int | None, typer.Option("--dagster-port", help="Dagster UI port (SUBOPS_DAGSTER_PORT).")
    ] = None,
    dashboard_port: Annotated[
        int | None,
        typer.Option("--dashboard-port", help="Dashboard port (SUBOPS_DASHBOARD_PORT)."),
    ] = None,
    defs_module: Annotated[
        str, typer.Option("--defs-module", hidden=True, help="Code location (tests).")
    ] = "pipelines.definitions",
) -> None:
    """Run subops as a service: the Dagster daemon (schedule, sensors, alerts), the Dagster UI
    and the dashboard, supervised; Ctrl+C or SIGTERM stops them all.

    The nightly schedule runs when SUBOPS_SCHEDULE_ENABLED=true, the new-extracts sensor when
    SUBOPS_SENSOR_ENABLED=true. If one process dies, all stop and serve exits 1 (let systemd or
    the container runtime restart it). See docs/deploy.md.
    """
    settings = get_settings(
        landing_dir=landing,
        warehouse_dir=warehouse_dir,
        serve_host=host,
        dagster_port=dagster_port,
        dashboard_port=dashboard_port,
    )
    code = _run_service(settings, defs_module)
    if code:
        raise typer.Exit(code)


def _run_service(settings: Settings, defs_module: str) -> int:
    """Prepare DAGSTER_HOME and the children's environment, print what is on, supervise."""
    from pipelines.service.notify import channels
    from pipelines.service.supervise import DEFS_MODULE, Supervisor, service_children

    if defs_module == DEFS_MODULE:
        from pipelines.dbt_project import ensure_manifest

        ensure_manifest()  # a dbt parse error as one line here, not a trace in the UI
    env = _dagster_env()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        SUBOPS_LANDING_DIR=str(settings.landing_dir.resolve()),
        SUBOPS_WAREHOUSE_DIR=str(settings.warehouse_dir.resolve()),
        SUBOPS_SERVE_HOST=settings.serve_host,
        SUBOPS_DAGSTER_PORT=str(settings.dagster_port),
        SUBOPS_DASHBOARD_PORT=str(settings.dashboard_port),
        SUBOPS_SCHEDULE_ENABLED=str(settings.schedule_enabled).lower(),
        SUBOPS_SENSOR_ENABLED=str(settings.sensor_enabled).lower(),
        PYTHONPATH=os.pathsep.join(
            p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    )
    on = {True: "on", False: "off"}
    stale = settings.alert_stale_hours
    facts = [
        f"landing {settings.landing_dir.resolve()}"
        + ("" if settings.landing_dir.is_dir() else " (does not exist yet)"),
        f"warehouse {settings.warehouse_dir.resolve()}",
        f"DAGSTER_HOME {env['DAGSTER_HOME']} "
        f"(storage: {'PostgreSQL' if settings.dagster_pg_url else 'SQLite'})",
        f"nightly schedule {on[settings.schedule_enabled]} (0 2 * * * "
        f"{settings.schedule_timezone}), new-extracts sensor {on[settings.sensor_enabled]}",
        f"alerts via {', '.join(channels(settings)) or 'nothing (no webhook or SMTP set)'}; "
        f"quarantine above {settings.alert_quarantine_threshold:.1%}, "
        + (f"sources stale after {stale:g} h" if stale > 0 else "no freshness check"),
    ]
    for fact in facts:
        _say(f"serve: {fact}")
    children = service_children(settings, Path(env["DAGSTER_HOME"]), defs_module=defs_module)
    return Supervisor(children, env=env, cwd=Path.cwd(), say=_say).run()


def _say(line: str) -> None:
    """One line of serve's log, as it is (children's output may hold brackets, no markup)."""
    print(line, flush=True)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops runs                          # the last 20 builds\n\n"
        "  subops runs --limit 100 --warehouse-dir /srv/subops/warehouse"
    )
)
def runs(
    limit: Annotated[int, typer.Option(help="How many builds to list.", min=1)] = 20,
    warehouse_dir: WarehouseOpt = None,
) -> None:
    """Recent builds, newest first: when, as-of date, outcome, rows, quarantined, duration.

    Every build is a line of <warehouse>/logs/runs.jsonl (the index: a failed build's file is
    removed unless SUBOPS_KEEP_FAILED_BUILDS); where the build file still exists, its audit.runs
    row is shown instead, and the published warehouse's audit.runs adds older builds.
    """
    from rich.text import Text

    from pipelines.service.history import recent_runs

    settings = _settings(warehouse_dir=warehouse_dir)
    rows = recent_runs(settings, limit)
    if not rows:
        raise SubopsError(
            f"no builds recorded in {settings.warehouse_dir} (logs/runs.jsonl, audit.runs): "
            "run `subops build`, or pass --warehouse-dir"
        )
    table = Table(
        title=f"builds in {settings.warehouse_dir}",
        caption="why: the one-line cause · subops status: the published build",
    )
    for name, justify in (
        ("finished (UTC)", "left"),
        ("as of", "left"),
        ("outcome", "left"),
        ("rows", "right"),
        ("quarantined", "right"),
        ("took", "right"),
        ("build / why", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name != "build / why")  # type: ignore[arg-type]

    def num(n: int | None) -> str:
        return "" if n is None else f"{n:,}"

    for r in rows:
        took = "" if r.seconds is None else f"{r.seconds:.0f} s"
        when = r.finished_at.strftime("%Y-%m-%d %H:%M") if r.finished_at else ""
        build = (r.build_file or "").removesuffix(".duckdb")
        detail = r.failure_reason if r.status != "published" and r.failure_reason else build
        style = "green" if r.status == "published" else "red"
        table.add_row(
            when,
            str(r.as_of_date or ""),
            Text(r.outcome, style=style),
            num(r.rows_loaded),
            num(r.rows_quarantined),
            took,
            Text(" ".join(str(detail or "").split())),
        )
    # piped or captured output has no terminal width: print the rows whole rather than squeeze
    # the cause column to nothing at rich's 80-column default
    out = console if console.is_terminal else Console(width=max(console.width, 220))
    out.print(table)


@app.command(epilog="Examples:\n\n  subops status\n\n  subops status --warehouse-dir /srv/wh")
def status(warehouse_dir: WarehouseOpt = None) -> None:
    """What the published warehouse holds: build time, as-of date, mart row counts, last run."""
    from pipelines.warehouse.status import warehouse_status

    settings = _settings(warehouse_dir=warehouse_dir)
    st = warehouse_status(settings)
    console.print(f"[bold]Published warehouse:[/] {st.path} → {st.resolved}")
    for key, value in st.facts.items():
        console.print(f"  {key}: {value}")
    table = Table(title="marts")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in st.mart_rows.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops tables                           # the marts with row counts\n\n"
        "  subops tables --schema audit            # the build's record instead"
    )
)
def tables(
    schema: Annotated[
        str,
        typer.Option(help="Schema to list: marts, audit, quarantine or raw."),
    ] = "marts",
    warehouse_dir: WarehouseOpt = None,
) -> None:
    """List the tables of the published warehouse: name, rows and what each holds.

    Descriptions are the warehouse's own comments (from the dbt docs), as any SQL client shows
    them; `subops describe TABLE` gives the columns.
    """
    from rich.text import Text

    from pipelines.warehouse.catalog import LISTABLE_SCHEMAS, list_tables

    if schema not in LISTABLE_SCHEMAS:
        raise SubopsError(f"--schema must be one of {', '.join(LISTABLE_SCHEMAS)}, not {schema!r}")
    settings = _settings(warehouse_dir=warehouse_dir)
    found = list_tables(settings.current_warehouse, schema)
    table = Table(
        title=f"{schema} ({len(found)} tables)",
        caption="subops describe TABLE: its columns · subops sql 'select …': query",
    )
    rows = [(t.name, f"{t.rows:,}", t.summary) for t in found]
    # names and counts in full; the description gets what is left of the line (borders: 10)
    name_w = max((len(r[0]) for r in rows), default=5)
    rows_w = max((len(r[1]) for r in rows), default=4)
    table.add_column("table", no_wrap=True, min_width=name_w)
    table.add_column("rows", justify="right", no_wrap=True, min_width=rows_w)
    table.add_column(
        "what it holds",
        no_wrap=True,
        overflow="ellipsis",
        max_width=max(console.width - name_w - rows_w - 10, 20),
    )
    for name, n, summary in rows:
        table.add_row(name, n, Text(summary))
    console.print(table)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops describe fct_mrr_monthly         # looked up in marts, then audit\n\n"
        "  subops describe audit.runs\n\n"
        "  subops describe raw.billing__usage"
    )
)
def describe(
    table_name: Annotated[
        str, typer.Argument(metavar="TABLE", help="A mart (or schema.table) to describe.")
    ],
    warehouse_dir: WarehouseOpt = None,
) -> None:
    """Show a table of the published warehouse: what it holds, its columns, types and meaning."""
    from rich.text import Text

    from pipelines.warehouse.catalog import TableNotFoundError, describe_table

    settings = _settings(warehouse_dir=warehouse_dir)
    try:
        d = describe_table(settings.current_warehouse, table_name)
    except TableNotFoundError as exc:
        raise SubopsError(str(exc)) from exc
    size = f"{d.rows:,} rows" if d.rows is not None else d.kind
    console.print(Text(f"{d.schema}.{d.name} ({size})", style="bold"))
    if d.description:
        console.print(Text(d.description))
    table = Table()
    table.add_column("column", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("description", ratio=1)
    for c in d.columns:
        table.add_row(c.name, c.data_type, Text(c.description))
    console.print(table)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  subops sql 'select month, closing_mrr_usd from mrr_bridge_monthly order by 1'\n\n"
        "  subops sql --csv 'select * from fct_invoices' > invoices.csv\n\n"
        "  subops sql 'show tables'                # marts and audit (the search path)\n\n"
        "  subops sql 'select * from raw.billing__usage limit 5'"
    )
)
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run (read-only).")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to show in table mode.")] = 200,
    warehouse_dir: WarehouseOpt = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Where to read: duckdb (the published file) or the server target's served "
            "marts, as its read-only role (default: SUBOPS_TARGET; docs/engines.md).",
        ),
    ] = None,
) -> None:
    """Run one read-only statement against the published warehouse.

    SELECT (WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE), EXPLAIN or a describing PRAGMA;
    memory capped (sql_memory_limit, nothing spills to disk), interrupted after
    sql_timeout_seconds. Bare names are looked up in marts, then audit (`from fct_mrr_monthly`);
    other schemas by name (`raw.billing__usage`, `quarantine.rows`).
    """
    import duckdb

    from pipelines.warehouse.readonly import (
        QueryFailedError,
        QueryRefusedError,
        run_read_only_query,
    )

    settings = _settings(warehouse_dir=warehouse_dir)
    engine = target or settings.target
    if engine != "duckdb":
        columns, rows = _target_query(settings, engine, query)
        _print_rows(columns, rows, as_csv, limit)
        return
    try:
        result = run_read_only_query(
            settings.current_warehouse,
            query,
            memory_limit=settings.sql_memory_limit,
            timeout_seconds=settings.sql_timeout_seconds,
        )
    except (QueryRefusedError, QueryFailedError) as exc:
        raise SubopsError(str(exc)) from exc
    except duckdb.Error as exc:  # a syntax error, found while splitting the statements
        raise SubopsError(f"query failed: {str(exc).strip().splitlines()[0]}") from exc
    _print_rows(result.columns, result.rows, as_csv, limit)


def _target_query(settings: Settings, engine: str, query: str) -> tuple[list[str], list[tuple]]:
    """`subops sql` on a server target's served marts (its read-only role)."""
    from pipelines.targets import TARGETS, get_target
    from pipelines.warehouse.readonly import QueryRefusedError, check_read_only

    if engine not in TARGETS:
        raise SubopsError(f"--target {engine}: not a target — use one of {', '.join(TARGETS)}")
    try:
        check_read_only(query)
        return get_target(settings, engine).query(query, settings.sql_timeout_seconds)
    except (QueryRefusedError, RuntimeError) as exc:
        raise SubopsError(str(exc)) from exc


def _print_rows(columns: list[str], rows: list[tuple], as_csv: bool, limit: int) -> None:
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return
    table = Table(
        caption=f"{len(rows):,} rows" + (f" (first {limit} shown)" if len(rows) > limit else "")
    )
    for c in columns:
        table.add_column(c)
    for row in rows[:limit]:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


metrics_app = typer.Typer(
    name="metrics",
    help=(
        "The semantic layer: metrics defined once in dbt (dbt_project/models/semantic/), "
        "answered by MetricFlow from the published warehouse, read-only.\n\n"
        "Examples:\n\n"
        "  subops metrics list                                  # every metric, with its unit\n\n"
        "  subops metrics query --metrics mrr --group-by segment\n\n"
        "  subops metrics query -m mrr,arr,active_customers -g month --start 2026-01\n\n"
        "  subops metrics dimensions --metrics computed_billings   # what it can be sliced by"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(metrics_app)

MonthOpt = typer.Option(formats=["%Y-%m", "%Y-%m-%d"], help="YYYY-MM or YYYY-MM-DD.")


def _split(values: list[str] | None) -> list[str]:
    """`-m mrr,arr -m nrr` → [mrr, arr, nrr]."""
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@metrics_app.command(
    "query",
    epilog=(
        "Examples:\n\n"
        "  subops metrics query --metrics mrr --group-by segment      # MRR now, by segment\n\n"
        "  subops metrics query -m mrr,net_new_mrr -g month --start 2026-01 --end 2026-06\n\n"
        "  subops metrics query -m nrr,grr,logo_churn_rate -g quarter,segment --start 2025-01\n\n"
        "  subops metrics query -m computed_billings -g product_family,plan --start 2026-01\n\n"
        "  subops metrics query -m arpa -g region --filter segment=enterprise\n\n"
        "  subops metrics query -m recognized_revenue -g year --csv > revenue.csv\n\n"
        "  subops metrics query -m mrr -g month --explain            # the SQL, not run"
    ),
)
def metrics_query(
    metrics: Annotated[
        list[str],
        typer.Option("--metrics", "-m", help="Metrics, comma-separated (`subops metrics list`)."),
    ],
    group_by: Annotated[
        list[str] | None,
        typer.Option(
            "--group-by",
            "-g",
            help="Group by, comma-separated: month, quarter, year, segment, region, country, "
            "currency, cohort, product_family, plan, ... (`subops metrics dimensions`).",
        ),
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", "-f", help="Keep only NAME=VALUE (repeatable)."),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="MetricFlow filter: \"{{ Dimension('account__country') }} in ('DE','FR')\".",
        ),
    ] = None,
    start: Annotated[dt.datetime | None, MonthOpt] = None,
    end: Annotated[dt.datetime | None, MonthOpt] = None,
    order: Annotated[
        list[str] | None,
        typer.Option("--order", help="Sort by these, comma-separated; -name descending."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.", min=1)] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, full precision.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Print the SQL, do not run.")] = False,
    warehouse_dir: WarehouseOpt = None,
) -> None:
    """Answer metrics, grouped and filtered, from the published warehouse (money in the
    reporting currency).

    Balances (MRR, ARR, active customers, deferred revenue, NRR, GRR) over several months are
    the last month's; flows (revenue, billings, movements) add up. Without a time group-by,
    balances are those of the as-of month.
    """
    from pipelines.warehouse.readonly import (
        QueryFailedError,
        QueryRefusedError,
        WarehouseNotFoundError,
    )
    from pipelines.warehouse.semantic import SemanticLayerError, query_metrics

    settings = _settings(warehouse_dir=warehouse_dir)
    try:
        result = query_metrics(
            settings.current_warehouse,
            _split(metrics),
            _split(group_by),
            filters=filters or [],
            where=where or [],
            start=start.date() if start else None,
            end=end.date() if end else None,
            order_by=_split(order),
            limit=limit,
            explain=explain,
            memory_limit=settings.sql_memory_limit,
            timeout_seconds=settings.sql_timeout_seconds,
        )
    except (
        SemanticLayerError,
        QueryFailedError,
        QueryRefusedError,
        WarehouseNotFoundError,
    ) as exc:
        raise SubopsError(str(exc)) from exc
    if explain:
        print(result.sql)
        return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(result.rows)
        return
    from pipelines.warehouse.semantic import format_value

    table = Table(caption=f"{len(result.rows):,} rows")
    for c in result.columns:
        table.add_column(c, justify="right" if c in result.units else "left")
    for row in result.rows:
        cells = zip(result.columns, row, strict=True)
        table.add_row(*(format_value(v, result.units.get(c), c) for c, v in cells))
    console.print(table)


@metrics_app.command(
    "list",
    epilog="Examples:\n\n  subops metrics list\n\n  subops metrics list --csv",
)
def metrics_list(
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Every metric of the semantic layer: name, label, unit (usd, ratio, count), definition."""
    from pipelines.warehouse.semantic import SemanticLayerError, list_metrics

    try:
        infos = list_metrics()
    except SemanticLayerError as exc:
        raise SubopsError(str(exc)) from exc
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["metric", "label", "unit", "type", "description"])
        writer.writerows([(i.name, i.label, i.unit, i.kind, i.description) for i in infos])
        return
    table = Table(caption=f"{len(infos)} metrics (dbt_project/models/semantic/)")
    for c in ("metric", "label", "unit", "description"):
        table.add_column(c, overflow="fold")
    for i in infos:
        table.add_row(i.name, i.label, i.unit, i.description)
    console.print(table)


@metrics_app.command(
    "dimensions",
    epilog=(
        "Examples:\n\n"
        "  subops metrics dimensions --metrics mrr\n\n"
        "  subops metrics dimensions -m computed_billings,billings   # what both share"
    ),
)
def metrics_dimensions(
    metrics: Annotated[
        list[str], typer.Option("--metrics", "-m", help="Metrics, comma-separated.")
    ],
) -> None:
    """What the given metrics can be grouped and filtered by (short name → MetricFlow name)."""
    from pipelines.warehouse.semantic import (
        SemanticLayerError,
        available_group_bys,
        check_metrics,
        open_semantic_layer,
    )

    try:
        layer = open_semantic_layer(_settings().current_warehouse)
        names = check_metrics(layer.engine, _split(metrics))
        available = available_group_bys(layer.engine, names)
    except SemanticLayerError as exc:
        raise SubopsError(str(exc)) from exc
    table = Table(caption=f"group-bys of {', '.join(names)}")
    table.add_column("name")
    table.add_column("MetricFlow name")
    for name, full in available.items():
        table.add_row(name, ", ".join(full))
    console.print(table)


@app.command(
    "map",
    epilog=(
        "Examples:\n\n"
        "  subops map --mapping stripe --from exports/stripe --to data/landing\n\n"
        "  subops map --mapping salesforce --from exports/sf --to data/landing "
        "--extract-id 2026-11-27\n\n"
        "  subops map --mapping ./mappings/my_erp.yml --from /srv/erp_dump --to data/landing\n\n"
        "  subops map --mapping zendesk --check      # validate the mapping file only\n\n"
        "  subops map --mapping stripe --check --from exports/stripe   # ... and its columns\n\n"
        "The export folder holds one file per export table (invoice.csv, Account.csv ...), or "
        "one sub-folder per extract named by its date (2026-11-27/invoice.csv ...). Rows the "
        "mapping cannot place are listed and kept in <landing>/_mapping/<name>/quarantine/, "
        "which the next build copies into quarantine.rows. Shipped mappings: stripe, "
        "salesforce, zendesk, procurement_csv (docs/mappings.md)."
    ),
)
def map_exports(
    mapping: Annotated[
        str, typer.Option("--mapping", help="Shipped mapping name or path of a mapping .yml.")
    ],
    from_dir: Annotated[
        Path | None, typer.Option("--from", help="Folder of the system's export.")
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Landing folder to write into (default: landing dir)."),
    ] = None,
    extract_id: Annotated[
        str | None,
        typer.Option(
            "--extract-id",
            help="Extract id of a flat export folder (default today, UTC), or the one "
            "sub-folder to map.",
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Validate the mapping file only; write nothing.")
    ] = False,
) -> None:
    """Turn a system's export files into contract-shaped extracts, by a declarative mapping."""
    from pipelines.mapping.model import load_mapping
    from pipelines.mapping.run import map_exports as run_map

    m = load_mapping(mapping)
    if check:
        if from_dir is not None:
            from pipelines.mapping.run import check_against_headers, export_headers

            problems = check_against_headers(m, export_headers(from_dir, m.export_files()))
            if problems:
                raise SubopsError(
                    f"mapping {m.name} reads what {from_dir} lacks: " + "; ".join(problems)
                )
        console.print(
            f"mapping {m.name} is valid: {len(m.tables)} table(s) from "
            f"{', '.join(m.export_files())}"
            + (f"; every column it reads is in {from_dir}" if from_dir else "")
        )
        return
    if from_dir is None:
        raise SubopsError("--from: give the folder of the system's export")
    target = to or _settings().landing_dir
    result = run_map(m, from_dir, target, extract_id=extract_id)
    table = Table(title=f"{m.name} → {target}", show_footer=True)
    table.add_column("extract", footer="total")
    table.add_column("table")
    table.add_column("from")
    for col, foot in (
        ("read", ""),
        ("skipped", ""),
        ("written", f"{result.rows_written:,}"),
        ("quarantined", f"{result.rows_quarantined:,}"),
    ):
        table.add_column(col, justify="right", footer=foot)
    for r in result.tables:
        table.add_row(
            r.extract_id,
            r.table,
            r.source_file,
            f"{r.rows_read:,}",
            f"{r.rows_skipped:,}",
            f"{r.rows_written:,}",
            f"{r.rows_quarantined:,}",
        )
    console.print(table)
    if result.rows_quarantined:
        import duckdb

        files = [str(f) for f in result.quarantine_files]
        rows = duckdb.sql(
            "SELECT reason FROM read_csv($f, all_varchar = true) ORDER BY file, "
            "CAST(row_number AS BIGINT) LIMIT 10",
            params={"f": files},
        ).fetchall()
        err_console.print(
            f"[yellow]{result.rows_quarantined:,} row(s) could not be placed[/] (kept in "
            f"{', '.join(files)}; the next build quarantines them). First ones:"
        )
        from rich.markup import escape

        for (reason,) in rows:
            err_console.print(f"  {escape(reason)}", highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point: one clear line and a non-zero exit on failure; tracebacks only with --debug."""
    import click

    try:
        code = app(standalone_mode=False)  # a command's `typer.Exit(n)` comes back as n
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:
        if STATE.debug or os.environ.get("SUBOPS_DEBUG"):
            raise
        from rich.markup import escape

        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
