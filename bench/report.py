"""Medians, ratios and targets from the raw figures; the text table and the docs/benchmarks.rst section."""
import re
import statistics

OCTOSERVE, OCTOPRINT = "octoserve", "OctoPrint"
BEGIN, END = ".. BEGIN BENCHMARK RESULTS", ".. END BENCHMARK RESULTS"

# key, label, unit, measure, field, higher is better
METRICS = [
    ("stream-idle", "Streaming the job, instant acks", "lines/s", "stream-idle", "lines_per_s", True),
    ("stream-pollers", "... while 8 clients poll /api/printer", "lines/s", "stream-pollers", "lines_per_s", True),
    ("polls", "... /api/printer answers served meanwhile", "req/s", "stream-pollers", "poll_requests_per_s", True),
    ("stream-resend50", "... with a resend every 50 lines", "lines/s", "stream-resend50", "lines_per_s", True),
    ("stream-latency1ms", "... with every ack 1 ms late", "lines/s", "stream-latency1ms", "lines_per_s", True),
    ("polls-p99", "... /api/printer p99 while 8 poll and the job streams", "ms", "stream-pollers",
     "poll_latency_ms.p99", False),
    ("rest", "GET /api/printer, 8 clients, printer idle", "req/s", "rest", "requests_per_s", True),
    ("rest-p99", "... p99 latency", "ms", "rest", "latency_ms.p99", False),
    ("push", "Streaming with 200 push clients and 8 pollers", "lines/s", "push", "lines_per_s", True),
    ("push-poll-p99", "... /api/printer p99 meanwhile", "ms", "push", "poll_latency_ms.p99", False),
    ("push-current1", "... current messages per client, most (throttle 1)", "1/s", "push",
     "current_per_s_max_throttle1", False),
    ("push-current2", "... the same with throttle 2", "1/s", "push", "current_per_s_max_throttle2", False),
    ("push-events", "... ZChange events at all clients within 100 ms", "%", "push", "events_within_100ms", True),
    ("push-event-p99", "... event latency p99", "ms", "push", "event_latency_p99_ms", False),
    ("push-memory", "... memory per connected client (PSS)", "KB", "push", "memory_per_client_kb", False),
    ("push-temps", "... temperature points a client missed (sum)", "points", "push", "temps_missing", False),
    ("push1ms", "Streaming with 200 push clients and 8 pollers, acks 1 ms late", "lines/s", "push1ms",
     "lines_per_s", True),
    ("push1ms-poll-p99", "... /api/printer p99 meanwhile", "ms", "push1ms", "poll_latency_ms.p99", False),
    ("push1ms-events", "... ZChange events at all clients within 100 ms", "%", "push1ms", "events_within_100ms",
     True),
    ("push1ms-event-p99", "... event latency p99", "ms", "push1ms", "event_latency_p99_ms", False),
    ("stall", "One client stops reading for 60 s, 20 follow, acks 1 ms late", "lines/s", "stall", "lines_per_s",
     True),
    ("stall-rss", "... server memory growth meanwhile", "MB", "stall", "rss_growth_mb", False),
    ("stall-gap", "... longest wait for a current at the others", "s", "stall", "longest_current_gap_s", False),
    ("analysis", "Benchy analysis, whole process", "s", "analysis", "seconds", False),
    ("analysis-pure", "... octoserve's pure-Python path", "s", "analysis-pure", "seconds", False),
    ("upload", "50 MB upload", "s", "upload", "seconds", False),
    ("upload-rss", "... memory growth during it", "MB", "upload", "rss_growth_mb", False),
    ("startup", "Start-up to first answer", "s", "startup", "seconds", False),
    ("memory-pss", "Idle memory, connected (PSS)", "MB", "memory", "pss_mb", False),
    ("memory-rss", "Idle memory, connected (RSS sum)", "MB", "memory", "rss_mb", False),
]
REFERENCE_MEASURE = {"analysis-pure": "analysis"}
# The memory the push clients add shows only on a fresh server: later runs reuse what the first freed.
WORST_OF_RUNS = {"push-memory", "push-temps", "stall-rss", "stall-gap"}
NO_RATIO = {"upload-rss", "push-current1", "push-current2", "push-temps", "stall-rss"}  # absolute targets
OWN_REFERENCE = {"stream-pollers": "stream-idle", "stream-resend50": "stream-idle", "push": "stream-idle",
                 "push1ms": "stream-latency1ms", "stall": "stream-latency1ms"}
STREAMS = ("stream-idle", "stream-pollers", "stream-resend50", "stream-latency1ms")


def _values(results, host, measure, field):
    """One value per run; a streaming run that did not deliver the whole job counts as no value."""
    runs = results["runs"].get(host, {}).get(measure, [])
    if measure in STREAMS and field == "lines_per_s":
        return [run.get(field) if run.get("complete") else None for run in runs]
    return [_field(run, field) for run in runs]


def _field(run, path):
    value = run
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _worst(higher_better):
    def pick(values):
        values = [v for v in values if v is not None]
        return (min(values) if higher_better else max(values)) if values else None
    return pick


def _paired_ratio(a, b, higher_better):
    """Median over runs of octoserve's advantage (>1 = octoserve better), paired run by run when possible."""
    if a and b and len(a) == len(b):
        ratios = [x / y if higher_better else y / x for x, y in zip(a, b, strict=True) if x and y]
        return statistics.median(ratios) if ratios else None
    ma, mb = _median(a), _median(b)
    if not ma or not mb:
        return None
    return ma / mb if higher_better else mb / ma


def _own_fraction(results, host, measure):
    """Median over runs of this scenario's rate divided by the same round's rate of its reference scenario."""
    idle = _values(results, host, OWN_REFERENCE[measure], "lines_per_s")
    other = _values(results, host, measure, "lines_per_s")
    if idle and len(idle) == len(other):
        fractions = [o / i for o, i in zip(other, idle, strict=True) if o is not None and i]
        return statistics.median(fractions) if fractions else None
    mi, mo = _median(idle), _median(other)
    return mo / mi if mi and mo is not None else None


def summarise(results) -> dict:
    summary = {}
    for key, label, unit, measure, field, higher in METRICS:
        a = _values(results, OCTOSERVE, measure, field)
        # Octoserve-only variants are compared with OctoPrint's figure for the same work.
        b = _values(results, OCTOPRINT, REFERENCE_MEASURE.get(measure, measure), field)
        pick = _worst(higher) if key in WORST_OF_RUNS else _median
        row = {"label": label, "unit": unit, OCTOSERVE: pick(a), OCTOPRINT: pick(b),
               "runs": {OCTOSERVE: len(a), OCTOPRINT: len(b)}, "ratio": _paired_ratio(a, b, higher)}
        if key in WORST_OF_RUNS:
            a_worst, b_worst = row[OCTOSERVE], row[OCTOPRINT]
            row["ratio"] = _paired_ratio([a_worst], [b_worst], higher) if a_worst and b_worst else None
        if key in NO_RATIO:
            row["ratio"] = None
        if measure in STREAMS and field == "lines_per_s":
            for host in (OCTOSERVE, OCTOPRINT):
                runs = results["runs"].get(host, {}).get(measure, [])
                if runs:
                    row.setdefault("intact", {})[host] = f"{sum(bool(r.get('intact')) for r in runs)}/{len(runs)}"
                    failed = [r for r in runs if not r.get("complete")]
                    if failed:
                        done = sorted(r.get("job_lines_accepted") or 0 for r in failed)
                        states = ", ".join(sorted({str(r.get("host_state_at_end")) for r in failed}))
                        span = f"{done[0]:,}" if done[0] == done[-1] else f"{done[0]:,}-{done[-1]:,}"
                        row.setdefault("failed_ends", {})[host] = [
                            f"{len(failed)} run(s) ended early ({states}) after {span} of "
                            f"{failed[0].get('expected_job_lines'):,} job lines"]
        if measure in OWN_REFERENCE and field == "lines_per_s":
            row["own_idle"] = {h: _own_fraction(results, h, measure) for h in (OCTOSERVE, OCTOPRINT)}
        summary[key] = row
    summary["targets"] = targets(results, summary)
    return summary


def targets(results, s) -> list:
    """The issue's targets, each (text, verdict): True, False or None (not measured)."""
    def check(value, ok):
        return None if value is None else bool(ok(value))

    own = lambda key: s[key].get("own_idle", {}).get(OCTOSERVE)  # noqa: E731
    resend_intact = s["stream-resend50"].get("intact", {}).get(OCTOSERVE)
    resend_failed = resend_intact is not None and resend_intact.split("/")[0] != resend_intact.split("/")[1]
    all_intact = [v for key in STREAMS for v in [s[key].get("intact", {}).get(OCTOSERVE)] if v]
    intact_ok = None if not all_intact else all(v.split("/")[0] == v.split("/")[1] for v in all_intact)
    upload_rss = s["upload-rss"][OCTOSERVE]
    return [
        ("streaming with instant acks >= 3x OctoPrint", check(s["stream-idle"]["ratio"], lambda r: r >= 3)),
        ("with 8 pollers >= 90 % of octoserve's own instant-ack rate",
         check(own("stream-pollers"), lambda r: r >= 0.9)),
        ("resend every 50 lines >= 85 % of own instant-ack rate, job intact",
         False if resend_failed else check(own("stream-resend50"), lambda r: r >= 0.85)),
        ("acks 1 ms late >= 2x OctoPrint", check(s["stream-latency1ms"]["ratio"], lambda r: r >= 2)),
        ("benchy analysis >= 4x faster than OctoPrint", check(s["analysis"]["ratio"], lambda r: r >= 4)),
        ("50 MB upload no slower than OctoPrint", check(s["upload"]["ratio"], lambda r: r >= 1)),
        ("memory growth during the upload < 16 MB", check(upload_rss, lambda v: v < 16)),
        ("every line once and in order, every run", intact_ok),
        *push_targets(s, check, own),
    ]


def push_targets(s, check, own) -> list:
    mine = lambda key: s[key][OCTOSERVE]  # noqa: E731
    return [
        ("GET /api/printer, 8 clients, idle: >= 4x OctoPrint's requests/s",
         check(s["rest"]["ratio"], lambda r: r >= 4)),
        ("... and p99 under 10 ms", check(mine("rest-p99"), lambda v: v < 10)),
        ("200 push clients + 8 pollers: streaming >= 90 % of own instant-ack rate",
         check(own("push"), lambda r: r >= 0.9)),
        ("... GET /api/printer p99 under 25 ms", check(mine("push-poll-p99"), lambda v: v < 25)),
        ("... current at most 2/s per client (1/s with throttle 2)",
         check((mine("push-current1"), mine("push-current2")), lambda v: None not in v and v[0] <= 2.05
               and v[1] <= 1.05) if mine("push-current1") is not None else None),
        ("... an event reaches 99 % of clients within 100 ms", check(mine("push-events"), lambda v: v >= 0.99)),
        ("... memory growth under 150 KB per client", check(mine("push-memory"), lambda v: v < 150)),
        ("... no temperature point lost at any client", check(mine("push-temps"), lambda v: v == 0)),
        ("acks 1 ms late, 200 push clients + 8 pollers: streaming >= 90 % of the rate without them",
         check(own("push1ms"), lambda r: r >= 0.9)),
        ("... GET /api/printer p99 under 25 ms", check(mine("push1ms-poll-p99"), lambda v: v < 25)),
        ("... an event reaches 99 % of clients within 100 ms", check(mine("push1ms-events"), lambda v: v >= 0.99)),
        ("a client stops reading (20 others follow): streaming >= 90 % of the acks-1-ms rate without clients",
         check(own("stall"), lambda r: r >= 0.9)),
        ("... the server's memory stays bounded (growth under 16 MB)", check(mine("stall-rss"), lambda v: v < 16)),
    ]


def _fmt(value, unit=""):
    if value is None:
        return "-"
    if unit in ("lines/s", "req/s", "points"):
        return f"{value:,.0f}"
    if unit == "%":
        return f"{100 * value:.1f}"
    if unit in ("ms", "1/s"):
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    if unit == "s":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return f"{value:.1f}"


def _verdict(v):
    return {True: "met", False: "NOT met", None: "not measured"}[v]


def rows(results, summary):
    """Table rows: label, unit, octoserve, OctoPrint, ratio, note."""
    out = []
    for key, *_ in METRICS:
        row = summary[key]
        notes = []
        for host in (OCTOSERVE, OCTOPRINT):
            if row.get("intact", {}).get(host):
                notes.append(f"{host} intact {row['intact'][host]}")
            for end in row.get("failed_ends", {}).get(host, []):
                notes.append(f"{host}: {end}")
            fraction = row.get("own_idle", {}).get(host)
            if fraction is not None:
                notes.append(f"{host} {100 * fraction:.0f} % of own idle")
        measure = next(m for k, _, _, m, _, _ in METRICS if k == key)
        for host, reasons in results.get("skipped", {}).items():
            if measure in reasons:
                notes.append(f"{host} skipped: {reasons[measure]}")
        ratio = row.get("ratio")
        out.append((row["label"], row["unit"], _fmt(row[OCTOSERVE], row["unit"]), _fmt(row[OCTOPRINT], row["unit"]),
                    "-" if ratio is None else f"{ratio:.2f}x", "; ".join(notes)))
    return out


def text_table(results, summary) -> str:
    header = ("measure", "unit", OCTOSERVE, OCTOPRINT, "ratio", "notes")
    table = [header] + rows(results, summary)
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    lines = []
    for r in table:
        lines.append("  ".join(r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(5))
                     + ("  " + r[5] if r[5] else ""))
    lines.insert(1, "-" * len(lines[0]))
    lines.append("")
    lines.append("ratio: how many times better octoserve is (>1 = octoserve faster/smaller), median over paired runs")
    lines.append("targets:")
    for text, verdict in summary["targets"]:
        lines.append(f"  [{_verdict(verdict)}] {text}")
    for failure in results.get("failures", []):
        lines.append(f"FAILED {failure['host']} {failure['measure']}: {failure['error']}")
    return "\n".join(lines)


def rst_section(results, summary) -> str:
    meta, settings = results["meta"], results["settings"]
    out = [BEGIN, "", "Latest results", "--------------", ""]
    out.append(f"Measured {meta['date']} on {meta['nproc']} cores of {meta['cpu']}, {meta['memory_gb']} GB, "
               f"Linux {meta['kernel']}, Python {meta['python']}; octoserve {meta['octoserve_commit']}; "
               f"{settings['runs']} run(s) of each measurement, medians; streaming job of "
               f"{settings['segments']:,} segments; simulator acks "
               f"{'ADVANCED_OK (ok N<n> P15 B3)' if settings.get('advanced_ok') else 'plain ok'}; "
               f"polling clients at nice {settings.get('poller_nice', 0)}"
               f"{'; reference OctoPrint 1.11.8' if settings.get('reference') else '; OctoPrint not run'}.")
    out += ["", ".. list-table::", "   :header-rows: 1", "", "   * - Measure", "     - Unit", f"     - {OCTOSERVE}",
            f"     - {OCTOPRINT}", "     - Ratio", "     - Notes"]
    for label, unit, a, b, ratio, note in rows(results, summary):
        label = label.replace("...", "\u2026")  # a literal "..." would start an rst comment
        out += [f"   * - {label}", f"     - {unit}", f"     - {a}", f"     - {b}", f"     - {ratio}",
                f"     - {note or ''}".rstrip()]
    out += ["", "Targets:", ""]
    for text, verdict in summary["targets"]:
        out.append(f"- {_verdict(verdict)}: {text}")
    failures = results.get("failures", [])
    if failures:
        out += ["", "Failed measurements:", ""]
        out += [f"- {f['host']} {f['measure']}: ``{f['error'][:200]}``" for f in failures]
    out += ["", END]
    return "\n".join(out)


def write_docs(path, results, summary) -> None:
    section = rst_section(results, summary)
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "Benchmarks\n==========\n\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(text if text.endswith("\n") else text + "\n")
