"""The ``imgmeta`` command line (also ``python -m engine``).

Subcommands, each a thin shell over a library function of the module named:

=========  ==============================================  ===================
command    what it does                                    module
=========  ==============================================  ===================
extract    metadata objects of files, as JSON              ``engine.metadata``
hash       pHash of files                                  ``engine.phash``
distance   Hamming distance of two hashes                  ``engine.hamming``
bench      throughput benchmark beside installed peers     ``engine.bench``
batch      parallel / Dask extraction over directories     ``engine.batch``
dupes      near-duplicate groups from a batch output       ``engine.dupes``
serve      ImageKit-compatible HTTP API                    ``engine.server``
=========  ==============================================  ===================

Exit status of ``extract`` and ``hash``: 0 when every file was read, 1 when at
least one file failed (each failure is one line on stderr:
``imgmeta: PATH: KIND: message``), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


def _cmd_extract(args: argparse.Namespace) -> int:
    from .metadata import extract
    from .errors import MetadataError

    pretty = not args.jsonl and len(args.files) == 1 and sys.stdout.isatty()
    status = EXIT_OK
    for path in args.files:
        try:
            meta = extract(path, phash=not args.no_phash)
        except MetadataError as e:
            print(f"imgmeta: {path}: {e.kind}: {e}", file=sys.stderr)
            status = EXIT_SOME_FAILED
            continue
        if pretty:
            print(json.dumps(meta, indent=2, ensure_ascii=False))
        elif args.jsonl or len(args.files) > 1:
            print(json.dumps({"path": path, "metadata": meta}, ensure_ascii=False)
                  if args.with_path else json.dumps(meta, ensure_ascii=False))
        else:
            print(json.dumps(meta, ensure_ascii=False))
    return status


def _dispatch(module: str, func: str):
    """Run ``engine.<module>.<func>(args)``: the command's code lives with its concern."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(f"engine.{module}"), func)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="imgmeta", description="Image metadata engine (ImageKit's metadata object, self-hosted).")
    from . import __version__

    p.add_argument("--version", action="version", version=f"imgmeta {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    e = sub.add_parser("extract", help="print the metadata object of each FILE as JSON")
    e.add_argument("files", nargs="+", metavar="FILE")
    e.add_argument("--jsonl", action="store_true", help="one JSON object per line (default when not a terminal and several files)")
    e.add_argument("--no-phash", action="store_true", help="skip the perceptual hash (header-parsing speed)")
    e.add_argument("--with-path", action="store_true", help='with --jsonl: wrap each object as {"path": ..., "metadata": ...}')
    e.set_defaults(func=_cmd_extract)

    h = sub.add_parser("hash", help="print the pHash of each FILE")
    h.add_argument("files", nargs="+", metavar="FILE")
    h.add_argument("--exact", action="store_true", help="always decode at full size (bit-exact with imagehash)")
    h.set_defaults(func=_dispatch("hashing", "cli_hash"))

    d = sub.add_parser("distance", help="Hamming distance of two 16-hex-digit hashes")
    d.add_argument("a")
    d.add_argument("b")
    d.set_defaults(func=_dispatch("hamming", "cli_distance"))

    b = sub.add_parser("bench", help="throughput benchmark beside the installed peers")
    b.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    b.set_defaults(func=_dispatch("bench", "cli_bench"))

    bt = sub.add_parser("batch", help="extract over files and directories in parallel, as JSON Lines")
    bt.add_argument("inputs", nargs="+", metavar="DIR_OR_FILE")
    bt.add_argument("-o", "--output", default="-", help="output file ('-' for stdout, the default)")
    bt.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    bt.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    bt.add_argument("--include", action="append", default=[], metavar="GLOB")
    bt.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    bt.add_argument("--resume", action="store_true", help="skip files already recorded in the output")
    bt.add_argument("--no-phash", action="store_true")
    bt.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="per-file time limit")
    bt.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run on a Dask cluster ('local' starts a LocalCluster)")
    bt.add_argument("--no-progress", action="store_true")
    bt.set_defaults(func=_dispatch("batch", "cli_batch"))

    du = sub.add_parser("dupes", help="group near-duplicates of a batch output by pHash")
    du.add_argument("results", metavar="RESULTS.jsonl")
    du.add_argument("--max-distance", type=int, default=8)
    du.add_argument("-o", "--output", default="-")
    du.set_defaults(func=_dispatch("dupes", "cli_dupes"))

    s = sub.add_parser("serve", help="run the ImageKit-compatible HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--data-dir", default="./imgmeta-data")
    s.set_defaults(func=_dispatch("server", "cli_serve"))
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
