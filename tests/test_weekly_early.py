"""The weekly run's early checks (zlgis.weekly.EarlyChecks): the checks that need neither the
largest layer nor the layers only its users read start before those load, and give the findings
of the one-stage run."""

from __future__ import annotations

import datetime as dt
import time

import geopandas as gpd
import pytest

import zlgis.weekly as weekly
from zlgis.ledger.store import Ledger
from zlgis.weekly import EarlyChecks, load_inputs, run_checks, run_weekly

AS_OF = dt.date(2022, 8, 28)
CHECKS = ["waterlogging", "trucks", "greenspace", "cases", "lamps"]
SALT = "zlgis-demo-salt-not-for-real-data"


def test_the_demo_city_loads_buildings_and_their_users_last(demo_catalog):
    early = EarlyChecks(demo_catalog, None, as_of=AS_OF, jobs=1)
    assert {"buildings", "sweeper_tracks", "residential_compounds"} <= early.late
    # needed by checks that do not read the buildings, or by no rule at all: loaded first
    assert not early.late & {"roads", "waterlogging_points", "truck_pings", "grids",
                             "patrol_observations", "toilets", "boundary"}
    starts = [n for n, need in early.needs.items() if need and not need & early.late]
    assert starts[0] == "waterlogging"  # run.serial_checks first
    assert {"trucks", "greenspace", "cases", "grids"} <= set(starts)
    assert not {"coverage", "sanitation", "controllines", "lamps"} & set(starts)


def test_a_layer_still_loading_stops_any_use_of_it():
    pending = weekly._Pending("buildings")
    seen = dict({"roads": None, "buildings": pending})  # a check's own copy keeps the stand-in
    assert seen["buildings"] is not None and "buildings" in seen
    for use in (len, bool, iter, hash, repr, lambda p: p.geometry, lambda p: p == 1,
                lambda p: isinstance(p, gpd.GeoDataFrame), lambda p: p["id"]):
        with pytest.raises(weekly._NotLoaded, match="buildings"):
            use(seen["buildings"])
    with pytest.raises(weekly._NotLoaded):  # not an Exception: a check's own handler misses it
        try:
            len(pending)
        except Exception:  # noqa: BLE001
            pytest.fail("caught as an Exception")


@pytest.fixture(scope="module")
def one_stage(demo_catalog):
    """The findings of CHECKS on the demo city in week 2022-W35, all layers loaded first."""
    layers, _ = load_inputs(demo_catalog)
    as_of = weekly.resolve_week("2022-W35")[1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZLGIS_PLATE_SALT", SALT)
        found = run_checks(demo_catalog, layers, as_of=as_of, checks=CHECKS, jobs=1)[0]
    return found.sort_values("finding_id")


def _same(a, b):
    cols = ["finding_id", "rule", "feature_id", "measure"]
    assert len(a) and a[cols].reset_index(drop=True).equals(b[cols].reset_index(drop=True))
    assert a.geometry.reset_index(drop=True).geom_equals_exact(
        b.geometry.reset_index(drop=True), 1e-9).all()


@pytest.mark.parametrize("jobs", [1, 2])
def test_early_checks_give_the_one_stage_findings(demo_catalog, one_stage, tmp_path, monkeypatch,
                                                  jobs):
    """Greenspace is told it reads no toilets, and the toilets load last: started early, it
    reads them while they are still loading, stops, and runs again with the others; every finding is the one-stage run's.
    With one process the early checks run before the last layers are read."""
    events: list[str] = []
    made: list[EarlyChecks] = []
    load_layer, check_task, init = weekly._load_layer, weekly._check_task, EarlyChecks.__init__

    def logged_load(catalog, lid, *args, **kwargs):
        events.append(f"load {lid}")
        return load_layer(catalog, lid, *args, **kwargs)

    def logged_task(name, *args):
        task = check_task(name, *args)

        def run():
            events.append(f"check {name}")
            return task()
        return run

    def told(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.needs["greenspace"] -= {"toilets", "park_facilities"}
        self.late |= {"toilets", "park_facilities"}
        made.append(self)

    monkeypatch.setenv("ZLGIS_PLATE_SALT", SALT)
    monkeypatch.setattr(weekly, "_load_layer", logged_load)
    monkeypatch.setattr(weekly, "_check_task", logged_task)
    monkeypatch.setattr(EarlyChecks, "__init__", told)
    r = run_weekly(demo_catalog, tmp_path / "out", week="2022-W35", checks=CHECKS, jobs=jobs)
    (early,) = made
    started = {"waterlogging", "trucks", "greenspace", "cases"}
    # with workers, those not started when the loading ends run with the others
    assert set(early.futures) == started if jobs == 1 else set(early.futures) <= started
    assert early.futures["waterlogging"].result()[0].shape[0] > 0
    if "greenspace" in early.futures:
        assert early.futures["greenspace"].result() is None  # stopped; ran in the main stage
    if jobs == 1:
        assert events.index("check waterlogging") < events.index("load buildings")
        assert events.index("load roads") < events.index("check waterlogging")
    found = gpd.read_file(r.files["gpkg"], layer="findings").sort_values("finding_id")
    assert set(found["check"]) == set(CHECKS)
    _same(found, one_stage)
    # the early checks ran too: their findings not found next week are rectified
    assert Ledger(r.ledger_path).run_info("2022-W35")["checks"] == sorted(CHECKS)


def test_once_loaded_the_queued_early_checks_join_the_others(demo_catalog, monkeypatch):
    """When every layer is loaded, early checks not started yet are handed back (the main
    stage runs them); a serial check (waterlogging) still running keeps running, not waited for
    (the serial lock keeps the main stage's serial checks from running beside it)."""
    def slow(name, *args):
        return lambda: (time.sleep(1.0 if name == "waterlogging" else 0.3), name)

    monkeypatch.setattr(weekly, "_check_task", slow)
    with EarlyChecks(demo_catalog, None, as_of=AS_OF, jobs=2) as early:
        early.start({}, set(early.late))
        started = list(early.futures)
        for _ in range(100):  # until the worker has started waterlogging
            if early._claims[1]:
                break
            time.sleep(0.05)
        early.stop_waiting()
        assert started[0] == "waterlogging" and len(started) > 4
        assert not early.futures["waterlogging"].done()
        assert early.futures["waterlogging"].result() == (None, "waterlogging")
        # the running one only: the next, already in the worker's call queue, is handed back
        # too (it returns at once when the worker takes it) and runs in the main stage
        assert set(early.futures) == {"waterlogging"}


def test_a_registered_check_given_as_a_function_starts_early_too(demo_catalog):
    """``checks`` as name -> function (the benchmark's logged checks): a registered name starts
    early with the function given; a name the registry does not know never does."""
    from zlgis.findings import empty_findings

    seen = []

    def mine(catalog, layers, *, as_of):
        seen.append(len(layers["roads"]))
        return empty_findings(crs=catalog.working_crs)

    with EarlyChecks(demo_catalog, {"waterlogging": mine, "coverage": mine, "probe": mine},
                     as_of=AS_OF, jobs=1) as early:
        early.start({"roads": gpd.GeoDataFrame(geometry=[])}, set(early.late))
        assert set(early.futures) == {"waterlogging"} and seen == [0]
        assert early.futures["waterlogging"].result()[0].empty


@pytest.mark.parametrize("jobs", [1, 2])
def test_meanwhile_runs_while_the_workers_check(demo_catalog, tmp_path, jobs):
    """``run_checks(meanwhile=)`` is called once the checks are handed to the workers and
    before their results are read: here each check waits for the file ``meanwhile`` writes
    (called after the results, it would never come). The weekly run lets the early worker go
    and cuts the maps' layers there."""
    from zlgis.findings import empty_findings

    go = tmp_path / "go"

    def probe(catalog, layers, *, as_of):
        for _ in range(200):
            if go.exists():
                return empty_findings(crs=catalog.working_crs)
            time.sleep(0.05)
        raise RuntimeError("meanwhile was not called while the checks ran")

    calls = []
    found, ran = run_checks(demo_catalog, {}, as_of=AS_OF, checks={"p1": probe, "p2": probe},
                            jobs=jobs, meanwhile=lambda: calls.append(go.touch()))
    assert calls == [None] and ran == ["p1", "p2"] and found.empty


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_early_checks_findings_gone_next_week_are_rectified(demo_catalog, tmp_path,
                                                               monkeypatch, jobs):
    """Trucks start early; the week after, every truck violation is gone: its findings are
    rectified (when the early checks were not recorded as run they stayed open for ever)."""
    from zlgis.findings import empty_findings

    def none_found(catalog, layers, *, as_of):
        return empty_findings(crs=catalog.working_crs)

    monkeypatch.setenv("ZLGIS_PLATE_SALT", SALT)
    made: list[EarlyChecks] = []
    init = EarlyChecks.__init__

    def kept(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(EarlyChecks, "__init__", kept)
    out = tmp_path / "out"
    first = run_weekly(demo_catalog, out, week="2022-W35", checks=["trucks", "lamps"], jobs=jobs)
    r = run_weekly(demo_catalog, out, week="2022-W36", checks={"trucks": none_found,
                                                               "lamps": None}, jobs=jobs)
    assert all("trucks" in e.futures for e in made)          # started early both weeks
    view = Ledger(r.ledger_path).view("2022-W36")
    trucks = view[view["check"] == "trucks"]
    assert first.merge.events.get("new", 0) > len(trucks) > 0
    assert set(trucks["status"]) == {"rectified"}


@pytest.mark.parametrize("min_mb", [0, 128])
def test_early_checks_handed_back_start_after_the_others(demo_catalog, tmp_path, monkeypatch,
                                                         min_mb):
    """``run_checks(last=)``: the early checks handed back start once the others have (the
    heavy checks keep the places they have when nothing starts early); not on a city whose
    files hold under ``run.memory_min_mb`` (the demo city's 24 MB), where they keep theirs."""
    from zlgis.findings import empty_findings

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "ledger.yaml").write_text(f"run:\n  memory_min_mb: {min_mb}\n",
                                                   encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path / "conf"))

    log = tmp_path / "started"

    def probe(name):
        def check(catalog, layers, *, as_of):
            with open(log, "a") as fh:
                fh.write(name + "\n")
            time.sleep(0.4)
            return empty_findings(crs=catalog.working_crs)
        return check

    checks = {n: probe(n) for n in ("e", "c1", "c2")}
    for last, first_started in (((), "e"), (("e",), None)):
        log.unlink(missing_ok=True)
        _, ran = run_checks(demo_catalog, {}, as_of=AS_OF, checks=checks, jobs=2, last=last)
        order = log.read_text().split()
        assert ran == ["e", "c1", "c2"] and sorted(order) == ["c1", "c2", "e"]
        if first_started or min_mb:
            assert "e" in order[:2]
        else:
            assert order[-1] == "e"
