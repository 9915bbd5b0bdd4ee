"""The frozen bundle's entry script: the same as the ``confero`` console script."""

import sys

from ui.app import main

if __name__ == "__main__":
    sys.exit(main())
