"""``zlgis grids make|check`` and ``zlgis cases``: unit grids, road chiefs, cases, evaluation.

``zlgis grids make --out DIR`` writes (atomically):

* ``unit_grids.gpkg`` - layers ``unit_grids`` (万米单元网格 with codes, duties and staff),
  ``road_chief_segments`` and ``communities`` (the areas divided: the bureau's communities
  dissolved from its ``grids`` layer, or, for a city without one, its built-up area from the
  buildings as one stand-in community);
* ``grid_table.xlsx`` (internal, with staff and phones) and ``grid_table_public.csv``
  (public columns only);
* ``grids_map_internal.html`` / ``grids_map_public.html`` (public fields only on the latter).

``zlgis grids check --out DIR`` audits the catalog's ``grids`` layer (gaps, overlaps, sizes,
codes): ``grids_findings.gpkg`` / ``.csv``; exit 1 when it finds anything.

``zlgis cases --out DIR [--as-of D] [--input FILE --crs gcj02|bd09|wgs84]`` classifies, routes,
times, groups and escalates the cases (the catalog's ``hotline_cases``, or a CSV/Excel export
of the 12345 system with longitude/latitude columns) and writes ``cases_findings.gpkg/.csv``,
``platform_cases.csv`` (every case with its class, grid, chief, departments, deadline and
times), ``platform_findings.csv`` and ``platform.xlsx`` (the platform layout,
docs/platform_export.md), ``overdue.csv``, ``case_report.csv`` (every input row with a problem
and its reason), ``evaluation.xlsx``, ``evaluation_*.png`` choropleths and the one-page
``evaluation.html``; with ``--labelled FILE`` (columns 诉求内容, 诉求分类, label) also the
confusion table ``classification.csv``; with ``--ledger ledger.sqlite`` (the weekly runs' ledger)
the evaluation's share of the findings ledger closed by the campaign end (2022-10-31) is taken
from the ledger of the last weekly run on or before that day. Exit 1 when rows were rejected or
findings were made.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from . import (
    add_common_options,
    load_checked,
    output_dir,
    start_check,
    start_command,
)

__all__ = ["register", "run_make", "run_check_grids", "run_cases", "read_case_file"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis grids`` (make, check) and ``zlgis cases``."""
    g = subparsers.add_parser("grids", help="万米单元网格与路长：生成、检查、公开责任表",
                              description="在社区边界内按道路、河流划分万米单元网格（GB/T 30428.1），"
                                          "生成路长路段，公开网格责任、范围和人员；检查现有网格。")
    gsub = g.add_subparsers(dest="grids_command", metavar="ACTION")
    g.set_defaults(func=lambda a: (g.print_help(), 2)[1])
    m = gsub.add_parser("make", help="生成单元网格、路长路段、责任表和地图")
    add_common_options(m, json=True, out="输出文件夹")
    m.add_argument("--no-map", action="store_true", help="不生成网页地图")
    m.add_argument("--basemap", choices=("tianditu", "gaode", "osm", "none"), default=None,
                   help="底图")
    m.set_defaults(func=run_make)
    c = gsub.add_parser("check", help="检查现有网格：空隙、重叠、面积、编码")
    add_common_options(c, json=True, out="输出文件夹")
    c.set_defaults(func=run_check_grids)
    k = subparsers.add_parser(
        "cases", help="12345/110/巡查案件：分类、派遣、时限、重复投诉、吹哨、热点、考评、平台导出",
        description="按 GB/T 30428.2 事件部件分类（分类字段或关键词），定位网格和路长，"
                    "确定牵头部门和处置时限，统计超期、重复投诉和“吹哨”升级，"
                    "Gi* 热点（FDR），街道、社区和部门考评，并导出城市管理平台格式。")
    add_common_options(k, json=True, out="输出文件夹",
                       as_of="统计截至当天（默认：最后一件案件的受理日期）")
    k.add_argument("--input", metavar="FILE", default=None,
                   help="12345 系统导出的 CSV/Excel（默认使用图层目录中的 hotline_cases）")
    k.add_argument("--lon", default="经度", help="经度列名（默认 经度）")
    k.add_argument("--lat", default="纬度", help="纬度列名（默认 纬度）")
    k.add_argument("--crs", choices=("gcj02", "bd09", "wgs84"), default="gcj02",
                   help="经纬度坐标系：gcj02（高德，默认）、bd09（百度）、wgs84")
    k.add_argument("--labelled", metavar="FILE", default=None,
                   help="人工标注样本（CSV：诉求内容、诉求分类、label），输出混淆矩阵")
    k.add_argument("--ledger", metavar="FILE", default=None,
                   help="每周检查的问题台账（ledger.sqlite），用于考评“攻坚期末台账整改比例”")
    k.set_defaults(func=run_cases)


# ------------------------------------------------------------------------------- grids
_GRID_HEADERS = {"grid_id": "网格编码", "grid_name": "网格名称", "subdistrict": "街道",
                 "community": "社区", "area_m2": "面积_平方米", "duties": "管理责任",
                 "roads": "网格内道路", "grid_worker": "网格员", "road_chief": "路长",
                 "road_chief_phone": "路长电话", "start_date": "启用日期", "end_date": "停用日期",
                 "note": "备注"}


def _communities(catalog: Any, layers: dict[str, Any], notes: list[str]) -> Any:
    """Community boundaries from the bureau's grids, else the built-up area as one community."""
    from ..analysis.gridding import built_up_area, communities_from_grids

    bureau = layers.get("grids")
    if bureau is not None:
        return communities_from_grids(bureau)
    b = layers.get(catalog.boundary_layer)
    notes.append(f"图层目录中没有网格图层 grids（社区边界），按建筑确定建成区，作为一个社区“{catalog.city}”划分")
    return built_up_area(layers["buildings"], name=catalog.city,
                         boundary=b.union_all() if b is not None and len(b) else None)


def _write_grid_tables(out: Path, table: Any, segments: Any, comm: Any) -> None:
    """unit_grids.gpkg (grids, road-chief segments, communities), the duties workbook and
    the public CSV."""
    import pandas as pd

    from ..analysis.gridding import PUBLIC_COLUMNS
    from ..io import atomic_path
    from ..io.tables import write_csv, write_xlsx

    with atomic_path(out / "unit_grids.gpkg") as tmp:
        table.to_file(tmp, layer="unit_grids", driver="GPKG")
        if segments is not None:
            segments.to_file(tmp, layer="road_chief_segments", driver="GPKG")
        comm[["subdistrict", "community", "geometry"]].to_file(tmp, layer="communities",
                                                               driver="GPKG")
    internal = pd.DataFrame(table.drop(columns="geometry")).rename(columns=_GRID_HEADERS)
    sheets = {"网格责任表": internal}
    if segments is not None:
        sheets["路长路段"] = pd.DataFrame(segments.drop(columns="geometry")).rename(columns={
            "segment_id": "路段编号", "road_name": "道路", "road_ids": "道路编号",
            "subdistrict": "街道", "community": "社区", "length_m": "长度_米",
            "road_chief": "路长"})
    write_xlsx(sheets, out / "grid_table.xlsx")
    public = pd.DataFrame(table[[c for c in PUBLIC_COLUMNS] + ["roads"]]).rename(
        columns=_GRID_HEADERS)
    write_csv(public, out / "grid_table_public.csv")


def _grid_maps(out: Path, catalog: Any, table: Any, segments: Any, basemap: str | None) -> None:
    from ..publish.maps import build_map, save_map

    extra = {"unit_grids": table, "road_chief_segments": segments}
    for profile in ("internal", "public"):
        m = build_map({}, None, catalog=catalog, profile=profile, basemap=basemap,
                      extra=extra, title=f"{catalog.city}万米单元网格与路长责任路段", service_areas=False)
        save_map(m, out / f"grids_map_{profile}.html")


def run_make(args: argparse.Namespace) -> int:
    """Generate unit grids, road-chief segments, the duties table and maps."""
    import shapely

    from ..analysis.gridding import audit_grids, grid_table, road_chief_segments, unit_grids
    from ..errors import InputError

    progress, catalog = start_command(args)
    out = output_dir(args.out)
    if "grids" not in catalog.layers and "buildings" not in catalog.layers:
        raise InputError("图层目录中既没有网格图层 grids（街道、社区划分），也没有建筑图层 buildings"
                         "（用于确定建成区），无法划分单元网格")
    ids = [i for i in ("grids", "roads", "blue_lines", "buildings", catalog.boundary_layer)
           if i in catalog.layers and (i != "buildings" or "grids" not in catalog.layers)]
    progress.step("读取网格（或建筑）、道路和蓝线图层")
    layers, notes = load_checked(catalog, ids, progress)
    bureau = layers.get("grids")
    progress.step("按社区边界（或建成区）、道路和河流划分单元网格")
    comm = _communities(catalog, layers, notes)
    grids = unit_grids(comm, roads=layers.get("roads"), rivers=layers.get("blue_lines"))
    segments = (road_chief_segments(layers["roads"], comm, chiefs=bureau)
                if "roads" in layers else None)
    table = grid_table(grids, staff=bureau, segments=segments)
    audit = audit_grids(grids, built_up=shapely.union_all(comm.geometry.values),
                        communities=comm)
    out.mkdir(parents=True, exist_ok=True)
    progress.step(f"写出结果到 {out}")
    _write_grid_tables(out, table, segments, comm)
    if not getattr(args, "no_map", False):
        progress.step("生成网页地图")
        _grid_maps(out, catalog, table, segments, args.basemap)
    area = table.geometry.area
    summary = {"grids": len(table), "communities": len(comm),
               "area_km2": round(float(area.sum()) / 1e6, 3),
               "median_area_m2": round(float(area.median()), 1),
               "segments": 0 if segments is None else len(segments),
               "audit_findings": len(audit), "notes": notes}
    if getattr(args, "json", False):
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for n in notes:
            print(f"注意：{n}")
        print(f"单元网格 {summary['grids']} 个（{summary['communities']} 个社区，"
              f"共 {summary['area_km2']} 平方公里，面积中位数 {summary['median_area_m2']:.0f} 平方米），"
              f"路长路段 {summary['segments']} 段；自检问题 {len(audit)} 个")
        print(f"结果已写入 {out}")
    return 1 if len(audit) else 0


def run_check_grids(args: argparse.Namespace) -> int:
    """Audit the catalog's grids layer."""
    from ..analysis.gridding import audit_grids
    from ..publish.tables import write_findings
    from ..rules import rules

    progress, catalog, out, _ = start_check(args, "网格检查", ["grids"],
                                            hint="可先用 zlgis grids make 划分网格")
    progress.step("读取网格图层")
    layers, notes = load_checked(catalog, ["grids"], progress)
    progress.step("检查空隙、重叠、面积和编码")
    findings = audit_grids(layers["grids"])
    out.mkdir(parents=True, exist_ok=True)
    write_findings(findings, out, stem="grids_findings")
    counts = findings["rule"].value_counts().to_dict() if len(findings) else {}
    if getattr(args, "json", False):
        print(json.dumps({"findings": len(findings), "by_rule": counts, "notes": notes},
                         ensure_ascii=False))
    else:
        for n in notes:
            print(f"注意：{n}")
        labels = {r.id: r.label for r in rules("grids")}
        text = "、".join(f"{labels.get(k, k)} {v} 个" for k, v in counts.items()) or "未发现问题"
        print(f"网格检查（{len(layers['grids'])} 个网格）：{text}")
        print(f"结果已写入 {out}")
    return 1 if len(findings) else 0


# ------------------------------------------------------------------------------- cases
def read_case_file(path: str, catalog: Any, *, lon: str, lat: str, crs: str) -> Any:
    """A 12345/110 export (CSV or Excel) with the catalog's Chinese column names, as points."""
    import pandas as pd

    from ..analysis.cases import cases_from_lonlat
    from ..errors import UnreadableInputError

    p = Path(path)
    if not p.is_file():
        raise UnreadableInputError("文件不存在", path=str(p))
    try:
        if p.suffix.lower() in (".xlsx", ".xls"):
            df = pd.read_excel(p, dtype=str)
        else:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any reader failure is an unreadable file
        raise UnreadableInputError(f"无法读取：{type(exc).__name__}", path=str(p)) from None
    for col in (lon, lat):
        if col not in df.columns:
            raise UnreadableInputError(f"缺少坐标列“{col}”（可用 --lon/--lat 指定列名）",
                                       path=str(p), field=col)
    spec = catalog["hotline_cases"] if "hotline_cases" in catalog.layers else None
    if spec is not None:
        df = df.rename(columns={c: spec.field_for_alias(c) for c in df.columns
                                if c not in (lon, lat) and spec.field_for_alias(c)})
    if "case_id" not in df.columns:
        raise UnreadableInputError("缺少工单编号列", path=str(p), field="工单编号")
    for col in ("received_at", "responded_at", "closed_at"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col].replace("", None), errors="coerce")
        elif col == "received_at":
            raise UnreadableInputError("缺少受理时间列", path=str(p), field="受理时间")
    for col in ("category", "text", "address"):
        if col not in df.columns:
            df[col] = ""
    return cases_from_lonlat(df, lon=lon, lat=lat, system=crs, crs=catalog.working_crs)


def _case_source(args: argparse.Namespace, catalog: Any, progress: Any
                 ) -> tuple[dict[str, Any], list[str], Any, str, str]:
    """Layers (grids, boundary), loading notes, the raw cases, their source and layer name."""
    ids = [i for i in ("grids", "boundary") if i in catalog.layers]
    if args.input is None:  # (run_cases has checked that the catalog has hotline_cases)
        ids.append("hotline_cases")
    progress.step("读取案件、网格和行政区界线")
    layers, notes = load_checked(catalog, ids, progress)
    if args.input is not None:
        raw = read_case_file(args.input, catalog, lon=args.lon, lat=args.lat, crs=args.crs)
        return layers, notes, raw, args.input, "input"
    return layers, notes, layers["hotline_cases"], str(catalog["hotline_cases"].path), \
        "hotline_cases"


def _write_case_tables(out: Path, findings: Any, report: Any, prepared: Any,
                       scores: dict[str, Any]) -> None:
    """Findings, the screening report, overdue cases, the platform export, evaluation.xlsx."""
    from ..analysis.evaluation import INDICATORS
    from ..io.tables import write_csv, write_xlsx
    from ..publish.platform import (
        CASE_COLUMNS,
        platform_cases,
        platform_findings,
        write_platform_export,
    )
    from ..publish.tables import write_findings

    write_findings(findings, out, stem="cases_findings")
    write_csv(report.rename(columns={"file": "文件", "layer": "图层", "row": "行号",
                                     "field": "字段", "value": "值", "action": "处理",
                                     "reason": "原因"}), out / "case_report.csv")
    plat = platform_cases(prepared)
    overdue = plat[plat["state"] == "超期未结"].sort_values("overdue_h", ascending=False)
    write_csv(overdue.rename(columns=CASE_COLUMNS), out / "overdue.csv")
    write_platform_export(out, cases=plat, findings=platform_findings(findings))
    write_xlsx({title: scores[by].rename(columns=INDICATORS)
                for by, title in (("subdistrict", "街道"), ("community", "社区"),
                                  ("department", "部门"))}, out / "evaluation.xlsx", index=True)


def _write_case_report(out: Path, layers: dict[str, Any], prepared: Any, findings: Any,
                       scores: dict[str, Any], as_of: Any, ledger_note: str) -> None:
    """evaluation.html with the score maps by subdistrict and community."""
    from ..analysis.evaluation import evaluation_areas
    from ..publish.evaluation import choropleth_png, write_evaluation_report

    figures = {}
    if "grids" in layers:
        for by, title in (("subdistrict", "街道"), ("community", "社区")):
            areas = evaluation_areas(layers["grids"], scores[by], by=by)
            figures[f"{title}考评得分"] = choropleth_png(
                areas, "score", out / f"evaluation_{by}.png", title=f"{title}考评得分")
    totals = {"案件": len(prepared), "已结案": int(prepared["closed"].sum()),
              "超期未结": int((~prepared["closed"] & prepared["overdue"]).sum()),
              "按期结案率": f"{prepared['closed_on_time'].sum() / max(len(prepared), 1):.0%}",
              "热点": int((findings["rule"] == "case_hot_spot").sum()) if len(findings) else 0}
    write_evaluation_report(out / "evaluation.html", scores=scores, as_of=str(as_of),
                            totals=totals, figures=figures, sources={
                                "结案率、按期结案率": "city-management-codes.md（数字化城管考核指标）",
                                "攻坚期末": "扎政办字〔2022〕51号 五、实施步骤（2022年10月31日）",
                                "期末台账整改比例": ledger_note,
                                "处置时限与权重": "zlgis/config/cases.yaml（示例值，需本地确认）"})


def _print_cases(args: argparse.Namespace, out: Path, prepared: Any, report: Any,
                 findings: Any, notes: list[str], as_of: Any) -> int:
    """The summary (JSON with --json) and the exit code."""
    from ..rules import is_skip_line, rules

    rejected = report[report["action"] == "已剔除"]
    counts = findings["rule"].value_counts().to_dict() if len(findings) else {}
    if getattr(args, "json", False):
        print(json.dumps({"cases": len(prepared), "rejected": len(rejected),
                          "findings": len(findings), "by_rule": counts, "notes": notes},
                         ensure_ascii=False))
    else:
        for n in notes:
            print(n if is_skip_line(n) else f"注意：{n}")
        for r in rejected.head(10).itertuples():
            print(f"文件 {r.file} 图层 {r.layer} 第 {r.row} 行 字段 {r.field}：{r.reason}（已剔除）")
        if len(rejected) > 10:
            print(f"……共剔除 {len(rejected)} 行，详见 case_report.csv")
        labels = {r.id: r.label for r in rules("cases")}
        text = "、".join(f"{labels.get(k, k)} {v} 件" for k, v in counts.items()) or "无"
        print(f"案件 {len(prepared)} 件（截至 {as_of}），剔除 {len(rejected)} 行；问题：{text}")
        print(f"结果已写入 {out}")
    return 1 if len(findings) or len(rejected) else 0


def run_cases(args: argparse.Namespace) -> int:
    """The case pipeline, evaluation and platform export."""
    import pandas as pd

    from ..analysis.cases import (
        case_findings,
        classify_cases,
        confusion_table,
        prepare_cases,
        screen_cases,
    )
    from ..analysis.evaluation import evaluate
    from ..analysis.hotspots import hot_spot_findings
    from ..errors import InputError
    from ..findings import concat_findings
    from ..io.tables import write_csv

    progress, catalog, out, skipped = start_check(
        args, "案件分析", ["cases"], extra=["hotline_cases"] if args.input else [],
        hint="可用 --input 指定 12345/110 导出文件")
    layers, notes, raw, source, layer = _case_source(args, catalog, progress)
    notes = skipped + notes
    area = layers["boundary"].union_all() if "boundary" in layers else None
    cases, report = screen_cases(raw, area=area, layer=layer, path=source)
    if not len(cases):
        raise InputError("没有可用的案件（全部被剔除，见 case_report.csv）", path=source)
    as_of = args.as_of or pd.to_datetime(cases["received_at"]).max().date()
    progress.step("分类、定位网格、派遣、计时、重复投诉和吹哨")
    prepared = prepare_cases(cases, as_of=as_of, grids=layers.get("grids"))
    progress.step("热点分析（Gi*，FDR）")
    findings = concat_findings([case_findings(prepared, as_of=as_of),
                                hot_spot_findings(prepared, as_of=as_of)])
    progress.step("考评")
    ledger, ledger_note = evaluation_ledger(args.ledger, as_of)
    notes.append(ledger_note)
    scores = {by: evaluate(prepared, by=by, as_of=as_of, ledger=ledger, grids=layers.get("grids"))
              for by in ("subdistrict", "community", "department")}
    out.mkdir(parents=True, exist_ok=True)
    progress.step(f"写出结果到 {out}")
    _write_case_tables(out, findings, report, prepared, scores)
    _write_case_report(out, layers, prepared, findings, scores, as_of, ledger_note)
    if args.labelled:
        sample = read_labelled(args.labelled)
        conf, sc = confusion_table(sample["label"], classify_cases(sample)["case_class"])
        write_csv(conf.join(sc).reset_index(), out / "classification.csv")
    return _print_cases(args, out, prepared, report, findings, notes, as_of)


def evaluation_ledger(path: str | None, as_of: Any) -> tuple[Any, str]:
    """The findings ledger at the last weekly run on or before the campaign end (or ``as_of``
    if earlier), and the line saying which week it is (or that there is none)."""
    if path is None:
        return None, "未指定问题台账（--ledger），考评不含台账整改比例"
    import pandas as pd

    from ..analysis.cases import case_settings
    from ..errors import InputError
    from ..ledger import Ledger
    from ..ledger.evaluation import ledger_at, ledger_week_at

    if not Path(path).is_file():
        raise InputError("问题台账文件不存在", path=str(path))
    end = pd.Timestamp(case_settings()["evaluation"]["campaign_end"]).date()
    day = min(end, pd.Timestamp(as_of).date())
    led = Ledger(path, create=False)
    week = ledger_week_at(led, day)
    if week is None:
        return None, f"问题台账中没有 {day} 及以前的周检查，考评不含台账整改比例"
    return ledger_at(led, day), f"问题台账 {week} 周（{day} 及以前最后一次周检查）各问题的状态"


def read_labelled(path: str) -> Any:
    """A labelled sample: 诉求内容 (or text), 诉求分类 (or category), label."""
    import pandas as pd

    from ..errors import UnreadableInputError

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001
        raise UnreadableInputError(f"无法读取标注样本：{type(exc).__name__}", path=path) from None
    df = df.rename(columns={"诉求内容": "text", "诉求分类": "category"})
    if "label" not in df.columns or "text" not in df.columns:
        raise UnreadableInputError("标注样本应有列 诉求内容、label", path=path, field="label")
    return df
