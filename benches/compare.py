#!/usr/bin/env python3
"""Kvota side by side with the tools people use instead, in one run.

Reads Kvota's own figures (JSON lines from `cargo bench --bench render -- --json` and
`cargo bench --bench grpc_load -- --json`), then times, on the same forms and data:
  * `kvota render` as a process per document (cold start to a written PDF),
  * the typst CLI compiling the same template and data, a process per document,
  * Chromium headless `--print-to-pdf` of an HTML page with the same table,
and prints a Markdown report with ratios (Kvota / peer); writes it and the raw figures
under benches/results/.

With --instructions (and --render-bench, the render bench's binary) it also counts the
instructions per document under valgrind's callgrind: Kvota in service (the difference
between two runs of the render bench that render different numbers of documents, over that
difference), `kvota render` and the typst CLI as a process per document. Instruction counts
do not depend on what else the machine is doing, so their ratios hold on a shared machine.

Usage: benches/compare.py --render results/render.jsonl --load results/load.jsonl
                        --kvota target/release/kvota [--runs-scale 1.0]
                        [--instructions --render-bench target/release/deps/render-…]
"""

import argparse
import html
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ["a1", "a2-100", "a2-1000", "a2-10000"]
RUNS = {"a1": 20, "a2-100": 10, "a2-1000": 5, "a2-10000": 2}
# Cases counted under callgrind (~50× slower than native), and the two document counts
# of the render bench whose difference is measured.
INSTRUCTION_CASES = {"a1": (2, 8), "a2-100": (1, 3)}


def model(case):
    """The same filled forms as benches/render.rs builds."""
    if case == "a1":
        return "appendix1.typ", json.loads((ROOT / "templates/sample/appendix1.json").read_text())
    rows = int(case.split("-")[1])
    v = json.loads((ROOT / "templates/sample/appendix2.json").read_text())
    sample = v["rows"][0]
    many = []
    for i in range(rows):
        r = json.loads(json.dumps(sample))
        r["number"] = i + 1
        r["organisation"]["name"] = f"ТОО «Құрылыс-{i + 1}»"
        r["current_count"] = i % 37
        for j, line in enumerate(r["lines"]):
            line["count"] = (i * 7 + j) % 29 + 1
        r["justification"] = (f"Заявка работодателя № {i + 1} от {1 + i % 28:02d}.09.2026. "
                              + r["justification"])
        many.append(r)
    v["rows"] = many
    return "appendix2.typ", v


def timed(cmd, runs, cwd=None):
    """Wall time (ms) of each run and the largest max-RSS (MiB) of the process itself."""
    times, rss = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = (time.perf_counter() - t) * 1e3
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed: {p.stderr.read().decode(errors='replace')[-2000:]}")
        times.append(elapsed)
        rss = max(rss, usage.ru_maxrss / 1024)
    times.sort()
    p99 = times[min(len(times) - 1, round((len(times) - 1) * 0.99))]
    return {"p50_ms": statistics.median(times), "p99_ms": p99, "runs": runs, "peak_rss_mib": rss}


def callgrind(cmd, env=None):
    """Instructions executed by `cmd` (all threads), as callgrind counts them."""
    with tempfile.TemporaryDirectory(prefix="callgrind-") as d:
        out = Path(d) / "callgrind.out"
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env={**os.environ, **(env or {})})
        if p.returncode != 0:
            raise SystemExit(f"callgrind of {cmd[0]} failed: {p.stderr.decode(errors='replace')[-2000:]}")
        for line in out.read_text(errors="replace").splitlines():
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise SystemExit(f"no instruction total from callgrind for {cmd[0]}")


def instructions(a, tmp, typst):
    """Instructions per document: Kvota in service, as a process, and the typst CLI."""
    out = {}
    for case, (few, many) in INSTRUCTION_CASES.items():
        template, _ = model(case)
        bench = [a.render_bench, "--bench", "--case", case, "--renders"]
        per_doc = (callgrind(bench + [str(many)]) - callgrind(bench + [str(few)])) / (many - few)
        # The data file of the case, as main() wrote it for the `kvota render` runs.
        process = callgrind([a.kvota, "render", "--template", template, "--data",
                             str(tmp / f"{case}.json"), "--out", str(tmp / f"{case}-cg.pdf")],
                            env={"RUST_LOG": "off"})
        row = {"kvota_in_service": per_doc, "kvota_process": process}
        if typst:
            d, template = typst_dir(case, a.kvota)
            row["typst_cli"] = callgrind([typst, "compile", "--root", str(d), "--pdf-standard",
                                          "a-2b", str(d / template), str(d / "out.pdf")])
        out[case] = row
        print(f"instructions {case}: {row}", flush=True)
    return out


TYPST_DIRS = {}


def typst_dir(case, kvota):
    """A directory the typst CLI compiles the case in: the templates, a QR code and the
    data as the template reads it (Appendix 2's cells are prepared by Kvota in Rust before
    Typst runs; `kvota render --data-out` writes them)."""
    if case in TYPST_DIRS:
        return TYPST_DIRS[case]
    template, data = model(case)
    d = Path(tempfile.mkdtemp(prefix=f"typst-{case}-"))
    for f in (ROOT / "templates").glob("*.typ"):
        shutil.copy(f, d)
    shutil.copy(ROOT / "templates/sample/qr.svg", d / "qr.svg")
    (d / "raw.json").write_text(json.dumps(data, ensure_ascii=False))
    subprocess.run([kvota, "render", "--template", template, "--data", str(d / "raw.json"),
                    "--out", str(d / "kvota.pdf"), "--data-out", str(d / "data.json")],
                   check=True, stdout=subprocess.DEVNULL)
    TYPST_DIRS[case] = (d, template)
    return d, template


def html_page(case):
    """The same table as an HTML page, styled like the form (landscape A4 for Appendix 2)."""
    template, data = model(case)
    esc = html.escape
    if template == "appendix1.typ":
        head = ["№", "Код", "Наименование должности", "Категория", "Привлечено", "Требуется"]
        body = [[r.get("number", ""), r.get("occupation_code", ""), r.get("occupation_name", ""),
                 r.get("category", ""), r.get("current_count", ""), r.get("requested_count", "")]
                for r in data.get("rows", [])]
        page = "A4 portrait"
    else:
        head = ["№", "Работодатель", "Адрес", "БИН", "Привлечено", "Категория", "Код",
                "Должность", "Количество"]
        body = []
        for r in data["rows"]:
            o = r["organisation"]
            for k, line in enumerate(r["lines"]):
                first = k == 0
                body.append([r["number"] if first else "", o["name"] if first else "",
                             o["legal_address"] if first else "", o["bin"] if first else "",
                             r["current_count"] if first else "", line["category"],
                             line["occupation_code"], line["occupation_name"], line["count"]])
        page = "A4 landscape"
    rows = "\n".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>" for r in body)
    return f"""<!doctype html><html lang="ru"><meta charset="utf-8">
<style>@page {{ size: {page}; margin: 20mm 15mm; }}
body {{ font-family: "Liberation Serif", serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border: 0.5pt solid #000; padding: 2pt; }}
thead {{ display: table-header-group; }}</style>
<p style="text-align:right">Приложение к Правилам</p><h3 style="text-align:center">Заявка</h3>
<table><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr></thead><tbody>
{rows}</tbody></table></html>"""


def chromium_cmd(html_path, out, profile):
    return ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--no-pdf-header-footer",
            f"--print-to-pdf={out}", html_path.as_uri()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--render", required=True)
    ap.add_argument("--load")
    ap.add_argument("--kvota", required=True)
    ap.add_argument("--runs-scale", type=float, default=1.0)
    ap.add_argument("--instructions", action="store_true")
    ap.add_argument("--render-bench")
    a = ap.parse_args()
    if a.instructions and not (a.render_bench and shutil.which("valgrind")):
        raise SystemExit("--instructions needs --render-bench and valgrind")
    runs = {k: max(1, round(v * a.runs_scale)) for k, v in RUNS.items()}

    kv, signing = {}, []
    for line in Path(a.render).read_text().splitlines():
        o = json.loads(line)
        if "kvota" in o:
            kv[o["kvota"]["case"]] = o["kvota"]
        elif "signing" in o:
            signing.append(o["signing"])
    load = [json.loads(l) for l in Path(a.load).read_text().splitlines()] if a.load else []

    results = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "cpu": next((l.split(":", 1)[1].strip() for l in
                                        Path("/proc/cpuinfo").read_text().splitlines()
                                        if l.startswith("model name")), "?")},
               "kvota": kv, "signing": signing, "load": load, "peers": {}}

    # Kvota as a process per document: start, fonts, render, write.
    tmp = Path(tempfile.mkdtemp(prefix="kvota-cold-"))
    cold = {}
    for case in CASES:
        template, data = model(case)
        (tmp / f"{case}.json").write_text(json.dumps(data, ensure_ascii=False))
        cold[case] = timed([a.kvota, "render", "--template", template, "--data",
                            str(tmp / f"{case}.json"), "--out", str(tmp / f"{case}.pdf")],
                           runs[case])
    results["kvota_process"] = cold

    typst = shutil.which("typst")
    chromium = shutil.which("chromium")
    for case in CASES:
        peers = results["peers"].setdefault(case, {})
        if typst:
            d, template = typst_dir(case, a.kvota)
            peers["typst_cli"] = timed([typst, "compile", "--root", str(d), "--pdf-standard",
                                        "a-2b", str(d / template), str(d / "out.pdf")], runs[case])
        if chromium:
            page = tmp / f"{case}.html"
            page.write_text(html_page(case))
            profile = Path(tempfile.mkdtemp(prefix="chromium-"))
            cmd = chromium_cmd(page, tmp / f"{case}-chromium.pdf", profile)
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm
            peers["chromium"] = timed(cmd, runs[case])

    if a.instructions:
        results["instructions"] = instructions(a, tmp, typst)

    out = ROOT / "benches/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    report = render_report(results)
    (out / "latest.md").write_text(report)
    print(report)


def ratio(a, b):
    return f"{b / a:.1f}×" if a and b else "–"


def render_report(r):
    m = r["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['platform']}", "",
             "| form | Kvota render p50 / p99 | Kvota render+seal p50 / p99 | Kvota peak RSS (all runs) "
             "| `kvota render` process p50, RSS | typst CLI p50 / p99, RSS | Chromium p50 / p99, RSS "
             "| typst CLI ÷ Kvota (render+seal) | Chromium ÷ Kvota (render+seal) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for case in CASES:
        k = r["kvota"].get(case)
        if not k:
            continue
        p = r["peers"].get(case, {})
        t, c = p.get("typst_cli"), p.get("chromium")
        kp = r["kvota_process"][case]
        seal = k["render_seal_ms"]["p50"]
        fmt = lambda x: (f"{x['p50_ms']:.0f} / {x['p99_ms']:.0f} ms, {x['peak_rss_mib']:.0f} MiB"
                         if x else "not installed")
        lines.append(
            f"| {case} | {k['render_ms']['p50']:.1f} / {k['render_ms']['p99']:.1f} ms "
            f"| {seal:.1f} / {k['render_seal_ms']['p99']:.1f} ms | {k['peak_rss_mib']:.0f} MiB "
            f"| {kp['p50_ms']:.0f} ms, {kp['peak_rss_mib']:.0f} MiB | {fmt(t)} | {fmt(c)} "
            f"| {ratio(seal, t and t['p50_ms'])} | {ratio(seal, c and c['p50_ms'])} |")
    if r["signing"]:
        lines += ["", "| key | PAdES seals/s | detached CMS/s |", "|---|---|---|"]
        lines += [f"| {s['key']} | {s['pades_per_s']:.0f} | {s['cms_per_s']:.0f} |"
                  for s in r["signing"]]
    if r["load"]:
        lines += ["", "| clients | SubmitApplication /s | p50 | p99 | CPU per create + submit "
                  "| DownloadDocument /s | p50 | p99 | CPU per download |",
                  "|---|---|---|---|---|---|---|---|---|"]
        cpu = lambda x: f"{x['cpu_ms_per_op']:.1f} ms" if "cpu_ms_per_op" in x else "–"
        for l in r["load"]:
            s, d = l["submit"], l["download"]
            lines.append(f"| {l['clients']} | {s['per_s']:.0f} | {s['p50_ms']:.1f} ms "
                         f"| {s['p99_ms']:.1f} ms | {cpu(s)} | {d['per_s']:.0f} "
                         f"| {d['p50_ms']:.1f} ms | {d['p99_ms']:.1f} ms | {cpu(d)} |")
    if r.get("instructions"):
        g = lambda n: f"{n / 1e6:,.0f} M" if n else "–"
        lines += ["", "Instructions per document (callgrind; all threads):", "",
                  "| form | Kvota in service | `kvota render` process | typst CLI process "
                  "| typst CLI ÷ Kvota in service | typst CLI ÷ `kvota render` |",
                  "|---|---|---|---|---|---|"]
        for case, i in r["instructions"].items():
            t = i.get("typst_cli")
            lines.append(f"| {case} | {g(i['kvota_in_service'])} | {g(i['kvota_process'])} "
                         f"| {g(t)} | {ratio(i['kvota_in_service'], t)} "
                         f"| {ratio(i['kvota_process'], t)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
