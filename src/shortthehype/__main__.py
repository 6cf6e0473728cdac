import sys

from shortthehype.cli import main

sys.exit(main())
