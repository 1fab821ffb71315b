"""`python -m export`: the export pipeline (export/pipeline.py), from the command line."""
import sys

from export.pipeline import main

if __name__ == "__main__":
    sys.exit(main())
