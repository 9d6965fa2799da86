import sys

from pollsim.cli import main

sys.exit(main())
