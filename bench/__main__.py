"""`python -m bench` (`make bench`): the run in bench/run.py, from the command line."""
import sys

from bench.run import main

if __name__ == "__main__":
    sys.exit(main())
