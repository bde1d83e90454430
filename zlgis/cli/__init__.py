"""The ``zlgis`` command.

Each sub-command lives in its own module of this package, which defines
``register(subparsers, check_subparsers)`` and sets ``func`` on its parser. ``func(args)`` returns
the exit code: 0 clean, 1 problems found in the data, 2 input that cannot be read at all.
A check command whose layers are missing from the catalog is not an error: it prints one
"未检查：…（缺少图层 …）" line per rule it cannot run on stdout and runs the others; when it can
run none of them it says so and exits 0 (:data:`NOTHING_TO_CHECK`) without writing outputs
(:func:`start_check` / :func:`check_skips` raise :class:`NothingToCheck`, :func:`main` reports).
Errors about the user's data are printed in Chinese without a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import contextvars
import datetime as dt
import importlib
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ZlgisError, storage_error

__all__ = ["main", "build_parser", "add_common_options", "iso_date", "load_checked",
           "output_dir", "print_rule_counts",
           "start_command", "load_present", "print_notes", "catalog_skips", "check_skips",
           "start_check", "NothingToCheck", "write_check_findings", "NOTHING_TO_CHECK", "COMMAND_MODULES"]

#: Exit code of a check command none of whose rules the catalog's layers let run (the same
#: for every command: a missing layer is optional, as in ``zlgis layers``; the lines say which).
NOTHING_TO_CHECK = 0

#: Sub-command modules, in the order they appear in ``zlgis --help``.
COMMAND_MODULES = (
    "layers_cmd",       # zlgis layers, zlgis validate
    "demo_cmd",         # zlgis demo-data
    "init_cmd",         # zlgis init (catalog and layers from an OSM extract)
    "controllines_cmd", # zlgis check controllines
    "trucks_cmd",       # zlgis check trucks
    "sanitation_cmd",   # zlgis check sanitation
    "compounds_cmd",    # zlgis check compounds, heating, water, gas
    "lamps_cmd",        # zlgis check lamps
    "municipal_cmd",    # zlgis check municipal
    "coverage_cmd",     # zlgis coverage
    "waterlogging_cmd", # zlgis waterlogging
    "grids_cmd",        # zlgis grids, zlgis cases
    "publish_cmd",      # zlgis map
    "portal_cmd",       # zlgis portal
    "serve_cmd",        # zlgis serve (a folder over HTTP with range requests)
    "print_cmd",        # zlgis print-maps
    "export_cmd",       # zlgis export qgis
    "weekly_cmd",       # zlgis weekly, zlgis ledger
    "db_cmd",           # zlgis db init (a shared ledger in PostgreSQL)
)


def add_common_options(parser: argparse.ArgumentParser, *, catalog: bool = True,
                       json: bool = False, out: str | None = None,
                       as_of: str | None = None) -> None:
    """Options every sub-command takes: ``--catalog``, ``--quiet``, ``--debug`` (and ``--json``).

    ``--quiet`` and ``--debug`` are accepted before or after the sub-command name. ``out`` and
    ``as_of`` are the help texts of a required ``--out DIR`` and of ``--as-of YYYY-MM-DD``
    (a :func:`iso_date`, default None), added when given.
    """
    if catalog:
        parser.add_argument("--catalog", metavar="FILE", default=None,
                            help="图层目录文件（默认 layers/catalog.yaml 或 $ZLGIS_CATALOG）")
    if json:
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    parser.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="不显示进度信息")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="出错时显示调用栈")
    if out is not None:
        parser.add_argument("--out", metavar="DIR", required=True, help=out)
    if as_of is not None:
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", type=iso_date, default=None,
                            help=as_of)


def start_command(args: argparse.Namespace) -> tuple[Any, Any]:
    """A command's progress line (silent with ``--quiet``) and its catalog (``--catalog``).

    Findings made while the command runs take the catalog's working CRS (``set_run_crs``).
    """
    from .._progress import Progress
    from ..catalog import Catalog
    from ..findings import set_run_crs

    progress = Progress(quiet=bool(getattr(args, "quiet", False)))
    catalog = Catalog.load(args.catalog)
    set_run_crs(catalog.working_crs)
    return progress, catalog


def iso_date(text: str) -> dt.date:
    """``argparse`` type for a YYYY-MM-DD date, with a Chinese error message."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”格式无效，应为 YYYY-MM-DD") from None


def output_dir(path: str) -> Path:
    """The ``--out`` folder as a path; a file in its place is a usage error (exit 2).

    The folder is not created here: a command creates it only once its inputs have been read,
    so a run that fails on its data leaves nothing behind.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ZlgisError("输出位置已存在且不是文件夹", path=str(out))
    return out


def load_checked(catalog: Any, ids: Iterable[str], progress: Any = None
                 ) -> tuple[dict[str, Any], list[str]]:
    """Load and validate catalog layers for a command.

    Derived layers (``source: {derive: ...}``) are computed from their loaded source layer.
    Returns the loaded layers and one Chinese note per layer that had rows rejected by
    validation (those rows take no part in the analysis). A layer that cannot be read at all
    raises :class:`~zlgis.errors.LayerError` naming it.
    """
    from ..analysis.derived import derive_layers, derived_ids, source_ids
    from ..errors import LayerError
    from ..findings import set_run_crs
    from ..validate import city_boundary, read_layer
    from ..validate.cache import cache_enabled

    city_boundary(catalog)  # a working CRS that does not cover the city: CRSError, exit 2
    cache = cache_enabled()  # layers unchanged since the last run come from the cache
    set_run_crs(catalog.working_crs)  # this command's findings are in the catalog's CRS
    ids = list(ids)
    layers: dict[str, Any] = {}
    notes: list[str] = []
    for lid in source_ids(catalog, ids):
        spec = catalog[lid]
        try:
            loaded = read_layer(catalog, lid, progress=progress, cache=cache)
        except LayerError:
            raise
        except ZlgisError as exc:
            raise LayerError(f"图层 {lid}（{spec.title}）无法载入：{exc}", layer=lid) from None
        layers[lid] = loaded.gdf
        rej = loaded.rejected
        if rej is not None and len(rej):
            first = rej.iloc[0]
            reason = first.get("reject_reason", first.get("reject_code", ""))
            notes.append(f"图层 {lid}（{spec.title}）有 {len(rej)} 行未通过校验，未参与分析"
                         f"（如第 {first.get('reject_row', '?')} 行：{reason}）；详见 zlgis validate")
    layers = derive_layers(catalog, layers, ids)
    for lid in derived_ids(catalog, ids):
        src = catalog.layers[lid].derived["from"]
        if lid in layers:
            notes.append(f"图层 {lid}（{catalog.layers[lid].title}）由图层 {src} 推算"
                         f"（{len(layers[lid])} 个要素）")
        if src not in ids:
            layers.pop(src, None)
    return layers, notes


def load_present(catalog: Any, ids: Iterable[str], progress: Any,
                 step: str = "读取图层") -> tuple[dict[str, Any], list[str]]:
    """:func:`load_checked` for those of ``ids`` the catalog has (a check's ``LAYERS``)."""
    progress.step(step)
    return load_checked(catalog, [lid for lid in ids if lid in catalog.layers], progress)


def print_notes(notes: Iterable[str], problems: Any = None, *, as_json: bool = False) -> None:
    """Loading notes and data problems (file, layer, row, id, field, reason) on stderr; the
    lines of rules that could not run ("未检查：…") on stdout, as every command prints them
    (on stderr too when stdout carries the command's JSON)."""
    from ..rules import is_skip_line

    for n in notes:
        if is_skip_line(n) and not as_json:
            print(n)
        else:
            print(f"注意：{n}", file=sys.stderr)
    for p in () if problems is None else problems.itertuples():
        print(f"数据问题：文件 {p.file} 图层 {p.layer} 第 {p.row} 行（{p.id}）字段 {p.field}："
              f"{p.reason}", file=sys.stderr)


def catalog_skips(catalog: Any, rule_ids: Iterable[str],
                  required: Iterable[str] | None = None,
                  extra: Iterable[str] = ()) -> tuple[list[str], bool]:
    """The "未检查" lines of the rules ``rule_ids`` whose layers the catalog lacks, and whether
    any of them can run.

    A rule's needs come from the registry, or are ``required`` (the layers the command itself
    cannot do without, e.g. for the method chosen) when given. Fields are not known before
    loading: a layer in the catalog meets its field needs here. ``extra`` names layers the
    command makes itself (red lines from roads) or reads from elsewhere (``--input``).
    """
    from ..rules import rule, skip_message
    from ..skips import skipped_rules

    present = dict.fromkeys([*catalog.layers, *extra])  # None: present, columns not known yet
    pool = [rule(rid) for rid in rule_ids]
    if required is None:
        skipped = skipped_rules(present, rules=pool)
    else:
        miss = [lid for lid in required if lid not in present]
        skipped = [(r, miss) for r in pool] if miss else []
    return [skip_message(r, m) for r, m in skipped], len(skipped) < len(pool)


class NothingToCheck(Exception):
    """A check command none of whose rules the catalog's layers let run: :func:`main` prints
    the "未检查" lines and what that means (one JSON object with ``--json``), writes nothing
    and returns :data:`NOTHING_TO_CHECK`."""

    def __init__(self, lines: list[str], text: str, as_json: bool) -> None:
        super().__init__(text)
        self.lines, self.text, self.as_json = lines, text, as_json

    def report(self) -> int:
        if self.as_json:
            import json

            print(json.dumps({"findings": 0, "by_rule": {}, "skipped": self.lines,
                              "notes": [self.text]}, ensure_ascii=False))
        else:
            print("\n".join([*self.lines, self.text]))
        return NOTHING_TO_CHECK


def check_skips(args: argparse.Namespace, catalog: Any, title: str, checks: Iterable[str] = (),
                *, rule_ids: Iterable[str] | None = None, required: Iterable[str] | None = None,
                extra: Iterable[str] = (), hint: str = "") -> list[str]:
    """The "未检查" lines of the rules of ``checks`` (or ``rule_ids``) that the catalog cannot
    run (:func:`catalog_skips`); raises :class:`NothingToCheck` when none can run (``title``
    names the command in the line saying so, ``hint`` what the user can do)."""
    from ..rules import rules

    ids = list(rule_ids) if rule_ids is not None else [r.id for c in checks for r in rules(c)]
    lines, runnable = catalog_skips(catalog, ids, required, extra)
    if not runnable:
        raise NothingToCheck(lines, f"{title}：图层目录缺少所需图层，没有可以运行的检查，未写出结果"
                                    f"{f'（{hint}）' if hint else ''}",
                             bool(getattr(args, "json", False)))
    return lines


def start_check(args: argparse.Namespace, title: str, checks: Iterable[str] = (),
                **skips: Any) -> tuple[Any, Any, Path, list[str]]:
    """:func:`start_command`, the ``--out`` folder (:func:`output_dir`) and the lines of the
    rules the catalog cannot run (:func:`check_skips`, same options)."""
    progress, catalog = start_command(args)
    out = output_dir(args.out)
    return progress, catalog, out, check_skips(args, catalog, title, checks, **skips)


def write_check_findings(findings: Any, out: Path, stem: str, progress: Any
                         ) -> tuple[Path, Path, dict[str, int]]:
    """Create ``--out``, write a check's findings there (GeoPackage + CSV with Chinese headers,
    :func:`zlgis.publish.tables.write_findings`) and count them per rule."""
    from ..publish.tables import write_findings

    out.mkdir(parents=True, exist_ok=True)
    progress.step(f"写出结果到 {out}")
    gpkg, csv = write_findings(findings, out, stem=stem)
    return gpkg, csv, (findings["rule"].value_counts().to_dict() if len(findings) else {})


def print_rule_counts(findings: Any, check: str, *, unit: str = "",
                      layers: Any = None, notes: Iterable[str] = ()) -> None:
    """Print one line per rule of ``check`` with findings: its registered title and count; with
    ``layers`` (layer id -> frame, or None for a layer known to exist), also one line per rule
    that could not run and why (:func:`zlgis.skips.skip_lines`); then ``notes``
    (:func:`print_notes`)."""
    from ..rules import rules
    from ..skips import skip_lines

    counts = findings["rule"].value_counts().to_dict() if len(findings) else {}
    for r in rules(check):
        if counts.get(r.id):
            print(f"  {r.title}：{counts[r.id]}{unit}")
    for line in skip_lines(layers, checks=[check]) if layers is not None else ():
        print(f"  {line}")
    print_notes(notes)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zlgis", description="扎兰屯市城市精细化管理 GIS 工具 (zlgis)")
    parser.add_argument("--debug", action="store_true", help="出错时显示完整调用栈（开发用）")
    parser.add_argument("--quiet", action="store_true", help="不显示进度信息（定时任务）")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="运行检查（controllines 五线管控, trucks 大车进城）")
    check_sub = check.add_subparsers(dest="check", metavar="CHECK")
    check.set_defaults(func=lambda a: (check.print_help(), 2)[1])
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # command not built yet
            raise
        module.register(sub, check_sub)
    return parser


def _one_blas_thread() -> None:
    """OpenBLAS (NumPy's and SciPy's) without threads of its own in this command, unless
    ``OPENBLAS_NUM_THREADS`` says otherwise; takes effect when NumPy is not imported yet.

    The commands run their parts in worker processes (:mod:`zlgis.workers`), one per CPU, and
    no part does matrix work that threads would speed up; each library's thread pool, started
    at import, spun on the CPUs the workers need (about 0.1 s a pool: 5 % of the demo weekly
    run's CPU time, BENCHMARKS.md)."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    _one_blas_thread()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        # a context of its own: the run's working CRS (zlgis.findings.set_run_crs) ends with it
        return int(contextvars.copy_context().run(args.func, args) or 0)
    except NothingToCheck as stop:
        return stop.report()
    except ZlgisError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"错误：{exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error of the data
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # disk full, read-only mount, no permission on an output path
        if args.debug:
            traceback.print_exc()
        err = storage_error(exc)
        print(f"错误：{err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
