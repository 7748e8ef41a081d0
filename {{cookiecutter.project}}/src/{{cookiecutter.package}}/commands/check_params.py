"""Check params.yaml whole (`make repro` runs this first): DVC runs a stage only when a key it reads
changed, so a key no stage reads, or a typo in a new one, would otherwise go unnoticed."""

from ..config import load_params
from ..errors import run

if __name__ == "__main__":
    run(load_params)
