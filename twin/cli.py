"""The `twin` command line: validate | run | compare | schema (see results.md).

Standard output carries only results (the JSON document with --json); messages, progress and
errors go to standard error. Exit status: 0 success, 2 bad scenario or command line, 1 other.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence

from twin import checks
from twin.errors import RunError, ScenarioError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, as for a bad scenario
        self.print_usage(sys.stderr)
        if message.endswith("expected one argument"):  # e.g. --horizon -1d: a value that
            # begins with '-' reads as an option
            option = message.removeprefix("argument ").split(":")[0].split("/")[-1]
            message += (f" (a value that begins with '-' is written {option}=VALUE, "
                        f"e.g. {option}=-1)")
        print(f"twin: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="twin", description="Factory digital twin: discrete-event simulation.")
    p.add_argument("--version", action="version", version=f"twin {_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="check scenario files; exit 2 if any is wrong")
    v.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    v.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")

    r = sub.add_parser("run", help="simulate a scenario and report")
    r.add_argument("scenario", metavar="SCENARIO", help="the scenario YAML file")
    r.add_argument("--replications", type=_replications, metavar="N|auto",
                   help="replications, or 'auto' to run until the throughput is precise")
    r.add_argument("--seed", type=_nonnegative_int, metavar="S",
                   help="root seed (same seed, same results)")
    r.add_argument("--horizon", metavar="DUR", type=_duration_arg,
                   help='measured period after warm-up, e.g. "30 d"')
    r.add_argument("--warmup", metavar="DUR|auto", type=_duration_arg,
                   help="warm-up deleted from the statistics, or auto (MSER-5)")
    r.add_argument("--engine", choices=["simpy", "flowline"],
                   help="simpy (full model) or flowline (fast, lines only)")
    r.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a scenario key (repeatable)")
    r.add_argument("--workers", type=_positive_int, metavar="N",
                   help="local worker processes (default: all cores)")
    r.add_argument("--dask", metavar="ADDRESS|local", type=_dask_address,
                   help="run the replications on a Dask cluster ('local' starts one here)")
    r.add_argument("--resume", action="store_true",
                   help="keep the replications already saved under --out; run the rest")
    r.add_argument("--vary", action="append", default=[], metavar="KEY.PATH=V1,V2,...",
                   help="sweep: run every combination of these values (repeatable)")
    r.add_argument("--out", metavar="DIR", help="write tables, summary.json and a report here")
    r.add_argument("--format", choices=["parquet", "csv"], default="parquet",
                   help="table format under --out (default parquet)")
    r.add_argument("--event-log", action="store_true",
                   help="also write every unit's events (event_log table under --out)")
    r.add_argument("--json", action="store_true", help="print the summary JSON on stdout")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    c = sub.add_parser("compare", help="run scenarios with the same seeds; paired differences")
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    for flag, kw in (("--replications", {"type": _replications, "metavar": "N|auto"}),
                     ("--seed", {"type": _nonnegative_int, "metavar": "S"}),
                     ("--horizon", {"metavar": "DUR", "type": _duration_arg}),
                     ("--warmup", {"metavar": "DUR", "type": _duration_arg}),
                     ("--workers", {"type": _positive_int, "metavar": "N"}),
                     ("--dask", {"metavar": "ADDRESS|local", "type": _dask_address}), ("--out", {"metavar": "DIR"})):
        c.add_argument(flag, **kw)
    c.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a key in every scenario (repeatable)")
    c.add_argument("--json", action="store_true", help="print the comparison JSON on stdout")
    c.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    return p


def _whole_number(text: str, least: int) -> int:
    """An option's whole-number value, at least `least`; argparse reports it otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _nonnegative_int(text: str) -> int:
    return _whole_number(text, 0)


def _replications(text: str) -> int | str:
    return "auto" if text == "auto" else _positive_int(text)


_DASK_ADDRESS = re.compile(
    r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):\d{1,5}/?$")


def _duration_arg(text: str) -> str | int | float:
    """A duration option as YAML 1.2 reads it: `3600` is a number of seconds (as in a
    scenario file), `"2 h"` and `auto` stay text for the schema to judge."""
    from twin.scenario.yamldoc import scalar

    try:
        value = scalar(text)
    except Exception:  # (not YAML at all: the schema says what is wrong with the text)
        return text
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else text


def _dask_address(text: str) -> str:
    """'local', or a scheduler address: [tcp|tls|ucx|ws|wss://]host:port."""
    if text == "local" or _DASK_ADDRESS.match(text):
        return text
    raise argparse.ArgumentTypeError(
        f"expected 'local' or a Dask scheduler address such as tcp://10.0.0.5:8786 "
        f"(scheme tcp, tls, ucx, ws or wss; host and port), got {text!r}")


def _version() -> str:
    from twin import __version__
    return __version__


def _process_start() -> float:
    """Wall-clock time (epoch seconds) this process started, so that `timing.total_s`
    covers the whole command, Python's start and imports included (Linux's /proc; else
    the time this module was imported)."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rpartition(")")[2].split()[19])  # field 22: starttime
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return _IMPORTED


_IMPORTED = time.time()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `twin` console script; returns the exit status."""
    status = _main(argv)
    if status == 130 and argv is None:
        # Ctrl-C of the command: what finished is saved and the workers were stopped; end
        # now, without the interpreter's exit handlers, which can wait for ever on a
        # process pool whose stopped worker held its result queue's lock
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)
    return status


def _main(argv: Sequence[str] | None) -> int:
    started = _process_start() if argv is None else time.time()
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "schema":
            from twin.scenario.load import scenario_json_schema
            print(json.dumps(scenario_json_schema(), indent=2))
            return 0
        if args.command == "compare":
            return _compare(args)
        return _run(args, started)
    except ScenarioError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except RunError as e:
        print(f"twin: run failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("twin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (e.g. `| head`): end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # (so that the exit's flush fails no more)
        return 1  # (results.md: 1 for anything but success and a wrong input)
    except Exception as e:  # a bug in twin: say so briefly, full trace only on request
        if os.environ.get("TWIN_DEBUG"):
            raise
        print(f"twin: internal error: {type(e).__name__}: {e} "
              f"(set TWIN_DEBUG=1 for details and please report it)", file=sys.stderr)
        return 1


def _validate(args: argparse.Namespace) -> int:
    bad = 0
    for path in args.scenarios:
        problems = checks.problems(path, args.set)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        if problems:
            bad += 1
        else:
            print(f"{path}: ok", file=sys.stderr)
    return 2 if bad else 0


def _run(args: argparse.Namespace, started: float) -> int:
    import twin
    from twin.backends import default_workers
    from twin.results import out_folder
    from twin.report.text import text_summary

    if args.resume and not args.out:
        raise ScenarioError("--resume needs --out DIR (the folder of the interrupted run)")
    scenario = twin.load(args.scenario, args.set)
    if scenario.vary is not None or args.vary:
        return _sweep(args)  # (its folder is made once its points are valid)
    out_folder(args.out)  # (after the scenario is read: a refused one leaves no folder)
    try:
        with checks.placed(args.scenario, args.set):
            results = twin.run(scenario, replications=args.replications, seed=args.seed,
                               horizon=args.horizon, warmup=args.warmup, engine=args.engine,
                               workers=args.workers or default_workers(), dask=args.dask,
                               out=args.out, resume=args.resume, table_format=args.format,
                               event_log=args.event_log,
                               progress=not args.quiet and sys.stderr.isatty())
    except KeyboardInterrupt:
        return _interrupted(args.out)
    _report_failures(results)
    if not len(results.measures):
        raise RunError("every replication failed")
    results.meta["timing"]["total_s"] = time.time() - started
    doc = results.summary()
    if args.out:
        from twin.report.html import write_report
        from twin.results import write_atomic

        out = results.write(args.out, args.format, with_summary=False)
        # the report shows the run as it was made (command-line options over the file's)
        ran = scenario.model_copy(update={"run": scenario.run.model_copy(update={
            "horizon": doc["horizon_h"] * 3600.0, "warmup": doc["warmup_h"] * 3600.0,
            "replications": doc["replications"], "seed": doc["seed"],
            "engine": doc["engine"]})})
        try:
            report = write_report(results, doc, out, ran)
        finally:  # summary.json last, once: its total_s includes the report's time
            doc["timing"]["total_s"] = time.time() - started
            write_atomic(out / "summary.json", json.dumps(doc, indent=2).encode() + b"\n")
        print(f"twin: wrote {out}/ (report: {report})", file=sys.stderr)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(text_summary(doc))
    return 0


def _interrupted(out: str | None) -> int:
    """Ctrl-C: say what is kept (under --out) and how to finish; exit status 130."""
    if not out:
        raise KeyboardInterrupt
    print(f"twin: interrupted; finished replications are saved in {out}; "
          f"run again with --resume to complete", file=sys.stderr)
    return 130


def _report_failures(results, label: str = "") -> None:
    """One line on stderr per failed replication (the summary records them too)."""
    where = f"{label}: " if label else ""
    for failure in results.meta["failed"]:
        print(f"twin: {where}replication {failure['replication']} failed: {failure['error']}",
              file=sys.stderr)


def _sweep(args: argparse.Namespace) -> int:
    """`twin run` of a scenario with `vary:` or `--vary`: every point, one table."""
    from pathlib import Path

    from twin.backends import default_workers
    from twin.results import write_table
    from twin.vary import parse_vary_option, run_sweep

    if args.resume and not args.out:
        raise ScenarioError("--resume needs --out DIR (the folder of the interrupted sweep)")
    try:
        with checks.placed(args.scenario, args.set):
            sweep = run_sweep(args.scenario, args.set, parse_vary_option(args.vary),
                              out=args.out, replications=args.replications, seed=args.seed,
                              horizon=args.horizon, warmup=args.warmup, engine=args.engine,
                              workers=args.workers or default_workers(), dask=args.dask,
                              table_format=args.format, resume=args.resume,
                              event_log=args.event_log,
                              progress=not args.quiet and sys.stderr.isatty())
    except KeyboardInterrupt:
        return _interrupted(args.out)
    for label, results in sweep.results.items():
        _report_failures(results, label)
    table = sweep.table()
    if args.out:
        out = Path(args.out)
        write_table(table, out / "sweep", args.format)
        write_table(sweep.measures(), out / "measures", args.format)
        _write_comparison(sweep.results, out)
        print(f"twin: wrote {out}/ ({len(sweep.points)} points; report: "
              f"{out / 'compare.html'})", file=sys.stderr)
    if args.json:
        print(json.dumps(sweep.summary(), indent=2, default=str))
    else:
        cols = [c for c in table.columns if not c.endswith(("_lo", "_hi"))]
        from twin.analysis.stats import number
        print(table[cols].to_string(index=False, float_format=lambda x: number(x, 4)))
    return 0


def _compare(args: argparse.Namespace) -> int:
    import twin
    from twin.analysis.compare import compare, compare_text
    from twin.backends import default_workers
    from twin.results import out_folder

    if len(args.scenarios) < 2:
        raise ScenarioError("compare needs at least two scenarios")
    scenarios = [twin.load(path, args.set) for path in args.scenarios]
    out_folder(args.out)
    for path, scenario in zip(args.scenarios, scenarios):
        if scenario.vary is not None:
            print(f"twin: compare runs {path} as it is, without its vary: section (twin run "
                  f"sweeps it)", file=sys.stderr)
    labels = _labels(args.scenarios, [s.name for s in scenarios])
    folders = _folders(labels)
    # one seed and one number of replications for all: the first scenario's unless given
    seed = scenarios[0].run.seed if args.seed is None else args.seed
    reps = scenarios[0].run.replications if args.replications is None else args.replications
    results = {}
    for label, scenario, path in zip(labels, scenarios, args.scenarios):
        if reps == "auto" and results:  # the baseline decided how many: pair them all
            reps = next(iter(results.values())).meta["replications"]
        out = None if not args.out else f"{args.out}/{folders[label]}"
        with checks.placed(path, args.set):
            results[label] = twin.run(
                scenario, replications=reps, seed=seed, horizon=args.horizon,
                warmup=args.warmup, workers=args.workers or default_workers(), dask=args.dask,
                out=out, progress=not args.quiet and sys.stderr.isatty())
        _report_failures(results[label], label)
        if out:
            results[label].write(out)
    doc = compare({k: r.measures for k, r in results.items()},
                  {k: r.meta for k, r in results.items()})
    doc.update(seed=seed, replications=reps)
    if args.out:
        from pathlib import Path

        _write_comparison(results, Path(args.out), doc)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(compare_text(doc))
    return 0


def _write_comparison(results: dict, out, doc: dict | None = None) -> None:
    """compare.json and compare.html under `out`: every result against the first (paired
    differences; for a sweep, every point against the first point)."""
    from twin.analysis.compare import compare
    from twin.results import write_atomic

    if doc is None:
        doc = compare({k: r.measures for k, r in results.items()},
                      {k: r.meta for k, r in results.items()})
        first = next(iter(results.values())).meta
        doc.update(seed=first.get("seed"), replications=first.get("replications"))
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "compare.json", json.dumps(doc, indent=2).encode())
    try:
        from twin.report.html import write_comparison
    except ImportError:  # (without the report's extras: the JSON only)
        return
    write_comparison(results, doc, out)


def _folders(labels: list[str]) -> dict[str, str]:
    """A folder name for each label under `compare --out`: letters, digits, '.', '_' and
    '-' only (a space or ':' becomes '-'), made unique, whatever the case, with the
    scenario's number."""
    import re

    safe = [re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "scenario"
            for label in labels]
    if len({s.lower() for s in safe}) < len(safe):  # (some file systems ignore case)
        safe = [f"{i + 1}-{s}" for i, s in enumerate(safe)]
    return dict(zip(labels, safe))


def _labels(paths: list[str], names: list[str]) -> list[str]:
    """Unique labels for the compared scenarios: their names, else their file stems."""
    from pathlib import Path

    if len(set(names)) == len(names):
        return names
    stems = [Path(p).stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [f"{i + 1}:{n}" for i, n in enumerate(names)]


if __name__ == "__main__":
    sys.exit(main())
