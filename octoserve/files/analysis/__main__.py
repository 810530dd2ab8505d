"""``python -m octoserve.files.analysis FILE [PROFILE.json]``: the analysis as JSON; errors are one line and exit 1."""
import json
import sys


def main(argv: list) -> int:
    if len(argv) not in (1, 2) or argv[0].startswith("-"):
        print("usage: python -m octoserve.files.analysis FILE [PROFILE.json]", file=sys.stderr)
        return 2
    from octoserve.files.analysis import AnalysisError, analyse

    try:
        profile = None
        if len(argv) == 2:
            with open(argv[1], encoding="utf-8") as handle:
                profile = json.load(handle)
        result = analyse(argv[0], profile)
    except AnalysisError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"Error: cannot read the profile {argv[1]}: {exc}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
