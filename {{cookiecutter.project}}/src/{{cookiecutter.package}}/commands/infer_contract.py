"""Print a starting data contract for a data file, to review and commit as contract.yaml:

    python -m <package>.commands.infer_contract data/raw/mydata.csv --target COLUMN > contract.yaml
"""

import argparse
import sys

import yaml

from ..data.infer import infer_contract
from ..data.tables import read_table
from ..errors import run


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the CSV or Parquet file to describe")
    parser.add_argument("--target", help="the column to predict (params.yaml's target)")
    args = parser.parse_args(argv)
    contract = infer_contract(read_table(args.data), args.target)
    print(f"# Data contract inferred from {args.data}.\n"
          "# Review every rule, fill in the descriptions, then commit it. Ranges are widened by 10%\n"
          "# and missing shares by half plus two points, to leave room for new data.")
    print(yaml.safe_dump(contract, sort_keys=False, allow_unicode=True, width=100), end="")


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
