"""``zeroforge report``'s HTML page (``zeroforge.html_report``): built from a real tiny tic-tac-toe run, its
embedded PNGs and episode data checked against the run's files, and the page itself rendered by headless Chromium
(no console errors; the viewer at the step the URL hash names, also after real clicks on Next).

The browser tests need Debian's ``chromium`` (``make browser`` installs it); without it they are skipped, except
where ``CI=true``, where they fail and say so."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zeroforge.cli import main
from zeroforge.data.parquet import load_parquet
from zeroforge.html_report import embed_json, write_report
from zeroforge.report import metric_series
from zeroforge.report_charts import CHARTS, chart_panels
from zeroforge.report_episodes import MAX_MOVES, read_episodes
from zeroforge.tasks import make_task

#: two self-play iterations of 8 tic-tac-toe games each, episodes saved
RUN_SETTINGS = ("iterations=2", "selfplay.save_episodes=true")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tiny_run: Callable[..., Path]) -> Path:
    """The shared tiny run (read only here: tests that change a run work on a copy)."""
    return tiny_run(*RUN_SETTINGS)


@pytest.fixture(scope="module")
def page(run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's report, written outside the run directory."""
    return write_report(run, tmp_path_factory.mktemp("report") / "report.html")


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "run"))


def _blob(text: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="episode-data">(.*?)</script>', text, re.S)
    assert match, "no episode data in the page"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


# -- the builder ------------------------------------------------------------------------------------------


def test_the_page_embeds_its_pngs_and_nothing_external(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    pngs = sorted(p.name for p in page.parent.glob("*.png"))
    assert {"learning_curve.png", "report_elo.png", "report_losses.png", "report_throughput.png",
            "report_resources.png", "report_solve_rates.png"} <= set(pngs), pngs
    assert "report_curriculum.png" not in pngs, "no curriculum, no curriculum chart"
    embedded = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(embedded) == len(pngs)
    assert sorted(base64.b64decode(b) for b in embedded) == sorted((page.parent / p).read_bytes() for p in pngs)
    assert all(base64.b64decode(b)[:8] == PNG_MAGIC for b in embedded)
    # self-contained: no stylesheet, script or image fetched from anywhere
    assert not re.search(r"<link|<script[^>]+src=|src=\"(?!data:)|url\(", text)
    assert "tictactoe" in text and "best generation" in text and "avg_success_rate" in text


def test_the_episode_data_holds_the_newest_episodes_with_their_steps(page: Path, run: Path) -> None:
    data = _blob(page.read_text(encoding="utf-8"))
    episodes = data["episodes"]
    assert data["num_players"] == 2
    assert [(e["iteration"], e["index"]) for e in episodes] == [(1, i) for i in range(8)] + [(0, i) for i in range(8)]
    table = load_parquet(run / "episodes" / "iter_000001.parquet", 1 << 30).table()
    for k, ep in enumerate(episodes[:8]):
        assert ep["length"] == len(ep["steps"]) == int(table.episode_lengths[k])
        assert ep["seed"] == int(table.seeds[k]) and ep["outcome"] == table.outcome(k)
        assert [s["action"] for s in ep["steps"]] == list(table.action_texts(k))
        assert [s["player"] for s in ep["steps"]] == [i % 2 for i in range(ep["length"])]
        assert ep["winner"] == table.metadata(k).get("winner")


def test_known_answer_first_step_is_the_empty_board_and_visits_are_the_traces(page: Path, run: Path) -> None:
    task = make_task("tictactoe")
    episodes = _blob(page.read_text(encoding="utf-8"))["episodes"]
    table = load_parquet(run / "episodes" / "iter_000001.parquet", 1 << 30).table()
    empty = task.initial_state(episodes[0]["seed"]).to_text()
    assert empty == "...\n...\n..."
    for k, ep in enumerate(episodes[:8]):
        assert ep["steps"][0]["text"] == empty
        assert ep["final_text"].count(".") == 9 - ep["length"]
        for step, trace in zip(ep["steps"], table.traces(k), strict=True):
            visits = trace.visit_counts
            legal = np.flatnonzero(trace.legal_action_mask)
            assert len(step["moves"]) == min(MAX_MOVES, len(legal))
            assert [m[1] for m in step["moves"]] == sorted(visits[legal].tolist(), reverse=True)[:MAX_MOVES]
            for text, count, prior, q, action in step["moves"]:
                assert count == visits[action] and text == f"{'xo'[step['player']]}({action // 3},{action % 3})"
                assert prior == pytest.approx(float(trace.prior_probs[action]), abs=1e-3)
                assert (q is None) == (count == 0)
            assert step["visits"] == int(visits.sum())
            assert step["value"] == pytest.approx(trace.root_value, abs=1e-3)


def test_max_episodes_takes_the_newest_iteration_first(run: Path) -> None:
    views = read_episodes(run / "episodes", make_task("tictactoe"), 5)
    assert [(e.iteration, e.index) for e in views.episodes] == [(1, i) for i in range(5)]
    assert views.files == 2 and views.warnings == ()
    assert read_episodes(run / "episodes", None, 5).warnings, "an unknown task is said, not a crash"


def test_a_run_without_episode_files_shows_a_note(run: Path, tmp_path: Path) -> None:
    """As ``selfplay.save_episodes: false`` leaves it (or a supervised run's directory without them)."""
    copy = _copy(run, tmp_path)
    shutil.rmtree(copy / "episodes")
    text = write_report(copy).read_text(encoding="utf-8")
    assert 'id="no-episodes"' in text and "selfplay.save_episodes: true" in text
    assert 'id="episode-data"' not in text and 'id="viewer"' not in text


def test_a_corrupt_episode_file_is_skipped_with_a_warning(run: Path, tmp_path: Path) -> None:
    copy = _copy(run, tmp_path)
    newest = copy / "episodes" / "iter_000001.parquet"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match="iter_000001.parquet"):
        text = write_report(copy).read_text(encoding="utf-8")
    assert re.search(r'id="report-warnings".*skipped episodes/iter_000001\.parquet', text, re.S)
    assert {e["iteration"] for e in _blob(text)["episodes"]} == {0}


def test_a_run_without_metrics_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FileNotFoundError, match=f"^no metrics.jsonl in {re.escape(str(tmp_path))}$"):
        write_report(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--run-dir", str(tmp_path)])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2 and err.strip().splitlines() == [f"error: no metrics.jsonl in {tmp_path}"]


def test_the_cli_writes_the_page_and_redraws_the_learning_curve(run: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    copy = _copy(run, tmp_path)
    (copy / "learning_curve.png").unlink()
    main(["report", "--run-dir", str(copy), "--max-episodes", "3"])
    out, err = capsys.readouterr()
    assert out.strip() == str(copy / "report.html") and err == ""
    assert (copy / "learning_curve.png").read_bytes()[:8] == PNG_MAGIC
    assert len(_blob((copy / "report.html").read_text(encoding="utf-8"))["episodes"]) == 3
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "example:" in capsys.readouterr().out


def test_embedded_json_cannot_end_its_script_element() -> None:
    data = {"text": "</script><script>alert(1)</script><!-- & -->", "n": [1, 2.5, None]}
    text = embed_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data


def test_charts_pick_their_keys() -> None:
    row = {"iteration": 0, "elo": 10.0, "elo_anchor": "random", "heldout_solve_rate": 0.5,
           "heldout_solve_rate_maze": 0.4, "success_rate": 0.9, "success_rate_at_level": 0.8, "difficulty": 2,
           "success_rate_level_2": 0.7, "success_rate_maze": 0.6,
           "resource_cpu_percent_main": 90.0, "resource_cpu_percent_main_max": 99.0, "resource_rss_mb_worker": 300.0,
           "resource_gpu_utilization_percent": 40.0, "resource_gpu_memory_mb": 900.0, "episodes_per_second": 3.0,
           "train_seconds": 1.0, "loss_policy": 1.0}
    series = metric_series([row])
    got = {chart.name: [(p.title, keys) for p, keys in chart_panels(chart, series)] for chart in CHARTS}
    assert got["elo"] == [("Elo", ["elo"])]
    assert [keys for _, keys in got["solve_rates"]] == [["heldout_solve_rate", "heldout_solve_rate_maze"],
                                                        ["success_rate", "success_rate_at_level",
                                                         "success_rate_maze"], ["success_rate_level_2"]]
    assert [keys for _, keys in got["resources"]] == [["resource_cpu_percent_main"], ["resource_rss_mb_worker"],
                                                      ["resource_gpu_utilization_percent"], ["resource_gpu_memory_mb"]]
    assert [keys for _, keys in got["throughput"]] == [["episodes_per_second"], ["train_seconds"]]
    assert got["curriculum"] == [("Curriculum level", ["difficulty"])]
    assert chart_panels(CHARTS[0], metric_series([{"iteration": 0, "loss_total": 1.0}])) == []


# -- in the browser ---------------------------------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: run `make browser` (Debian's chromium, headless) before the tests")
        pytest.skip("chromium is not installed (`make browser` installs it)")
    return found


def _render(target: Path, tmp_path: Path, fragment: str = "") -> tuple[str, str]:
    """The DOM headless Chromium ends with after loading ``target`` (scripts run, virtual time 3 s), and what it
    logged on stderr; its own profile directory, so parallel test workers do not share one."""
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    cmd = [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
           f"--user-data-dir={profile}", "--no-first-run", "--virtual-time-budget=3000", "--dump-dom",
           target.resolve().as_uri() + fragment]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout, res.stderr


def _console_problems(stderr: str) -> list[str]:
    """The lines of Chromium's log that come from the page's console or an uncaught exception. This Chromium logs
    every console message as ``INFO:CONSOLE`` whatever its level, so any console line counts: the report's
    page writes none."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


class _TextOf(HTMLParser):
    """The text content of the element with a given id."""

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id, self.depth, self.parts = element_id, 0, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += tag not in ("br", "img", "input", "meta", "link", "hr")
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def _text_of(dom: str, element_id: str) -> str:
    parser = _TextOf(element_id)
    parser.feed(dom)
    return "".join(parser.parts)


def test_browser_console_check_flags_a_page_with_errors(tmp_path: Path) -> None:
    """Negative control of ``_console_problems``: a page with a JS error, one that logs an error, and a clean one."""
    pages = {
        "thrown.html": "<script>undefinedFunction();</script>",
        "logged.html": '<script>console.error("deliberate");</script>',
        "clean.html": '<p id="p">a</p><script>document.getElementById("p").textContent = "b";</script>',
    }
    found = {}
    for name, body in pages.items():
        (tmp_path / name).write_text(f"<!DOCTYPE html><html><body>{body}</body></html>")
        dom, err = _render(tmp_path / name, tmp_path)
        found[name] = _console_problems(err)
    assert any("Uncaught ReferenceError" in line for line in found["thrown.html"]), found
    assert any("deliberate" in line for line in found["logged.html"]), found
    assert found["clean.html"] == [] and _text_of(dom, "p") == "b"


def test_browser_opens_the_episode_and_step_of_the_url_hash(page: Path, tmp_path: Path) -> None:
    episode = _blob(page.read_text(encoding="utf-8"))["episodes"][0]
    dom, err = _render(page, tmp_path, "#episode=0&step=2")
    assert _console_problems(err) == []
    assert _text_of(dom, "step-counter") == f"step 2 / {episode['length']}"
    assert _text_of(dom, "state-text") == episode["steps"][2]["text"]
    info = _text_of(dom, "step-info")
    assert f"chosen action{episode['steps'][2]['action']}" in info and "to moveplayer 0" in info
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", dom.split('id="moves-table"')[1].split("</table>")[0], re.S)
    assert len(rows) == 1 + len(episode["steps"][2]["moves"])  # header + one row per top move
    assert html.unescape(re.sub(r"<[^>]+>", "", rows[1])).startswith(episode["steps"][2]["moves"][0][0])


def test_browser_steps_through_an_episode_with_real_clicks(page: Path, tmp_path: Path) -> None:
    episode = _blob(page.read_text(encoding="utf-8"))["episodes"][1]
    n = episode["length"]
    dom, err = _render(page, tmp_path, "#episode=1&step=0&play=3")
    assert _console_problems(err) == []
    assert _text_of(dom, "step-counter") == f"step 3 / {n}"
    assert _text_of(dom, "state-text") == episode["steps"][3]["text"]
    dom, err = _render(page, tmp_path, f"#episode=1&step=1&play={n + 5}")  # Next stops at the final position
    assert _console_problems(err) == []
    assert _text_of(dom, "step-counter") == f"step {n} / {n}"
    assert _text_of(dom, "state-text") == episode["final_text"]
    assert "outcome" in _text_of(dom, "step-info") and "position" in _text_of(dom, "step-info")


def test_browser_arrow_keys_step(page: Path, tmp_path: Path) -> None:
    """Left / right arrow keys step back and forth (key events dispatched by a script added to a copy of the page)."""
    episode = _blob(page.read_text(encoding="utf-8"))["episodes"][0]
    keys = ["ArrowRight"] * 3 + ["ArrowLeft"]
    press = "".join(f'document.dispatchEvent(new KeyboardEvent("keydown", {{key: "{k}"}}));' for k in keys)
    copy = tmp_path / "keys.html"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", f"<script>{press}</script></body>"),
                    encoding="utf-8")
    dom, err = _render(copy, tmp_path)
    assert _console_problems(err) == []
    assert _text_of(dom, "step-counter") == f"step 2 / {episode['length']}"
    assert _text_of(dom, "state-text") == episode["steps"][2]["text"]
